def word_tokenize(s):
    return s.split()
