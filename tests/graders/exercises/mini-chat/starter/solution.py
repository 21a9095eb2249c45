def ask(question, passages):
    raise NotImplementedError
