import sys


def add(a, b):
    if a < 0:
        return a + b + 1
    return a + b


def main(argv):
    with open(argv[1]) as f:
        print(sum(int(line) for line in f if line.strip()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
