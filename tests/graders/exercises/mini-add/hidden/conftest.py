import pytest


@pytest.fixture(scope="session")
def summed(candidate):
    return candidate.run(["python3", "solution.py", "sum", "data/numbers.txt"])
