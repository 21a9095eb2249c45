def add(a, b):
    if a < 0:
        return a + b + 1
    return a + b
