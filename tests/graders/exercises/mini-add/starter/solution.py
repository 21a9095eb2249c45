def add(a, b):
    raise NotImplementedError


if __name__ == "__main__":
    raise SystemExit("not implemented")
