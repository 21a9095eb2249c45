import sys


def add(a, b):
    return a + b


def main(argv):
    if len(argv) != 2 or argv[0] != "sum":
        print("usage: solution.py sum FILE", file=sys.stderr)
        return 2
    try:
        with open(argv[1]) as f:
            print(sum(int(line) for line in f if line.strip()))
    except OSError as exc:
        print(f"cannot read {argv[1]}: {exc.strerror}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
