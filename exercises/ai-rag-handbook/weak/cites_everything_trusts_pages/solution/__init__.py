"""Your handbook question-answering package. See the brief and README.md."""
