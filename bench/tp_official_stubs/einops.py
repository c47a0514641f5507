"""The two einops.rearrange patterns that src/models/programs.py uses."""


def rearrange(t, pattern):
    if pattern == "a b c d -> a d (b c)":
        a, b, c, d = t.shape
        return t.permute(0, 3, 1, 2).reshape(a, d, b * c)
    if pattern == "b i q h -> b q (i h)":
        b, i, q, h = t.shape
        return t.permute(0, 2, 1, 3).reshape(b, q, i * h)
    raise NotImplementedError(pattern)
