IOB2 = None
