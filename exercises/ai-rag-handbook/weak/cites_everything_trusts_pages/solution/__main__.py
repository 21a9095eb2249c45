"""Handbook question answering.

python -m solution ask "QUESTION"
python -m solution batch --questions q.jsonl --output answers.jsonl

Finds the best matching handbook pages with BM25 and asks gpt-4o-mini to answer
from them.
"""

import argparse
import json
import os
import re

from openai import OpenAI
from rank_bm25 import BM25Okapi

HANDBOOK_PATH = os.path.join(os.path.dirname(__file__), "..", "data", "handbook.jsonl")
NUM_DOCS = 3

SYSTEM_PROMPT = """You are a helpful HR assistant for Northwind Labs.
Answer the employee's question using the handbook pages below.
Keep the answer short and mention which page you used."""


def load_handbook():
    pages = []
    with open(HANDBOOK_PATH) as f:
        for line in f:
            if line.strip():
                pages.append(json.loads(line))
    return pages


def tokenize(text):
    return re.findall(r"\w+", text.lower())


pages = load_handbook()
bm25 = BM25Okapi([tokenize(p["title"] + " " + p["text"]) for p in pages])
client = OpenAI()


def find_pages(question):
    scores = bm25.get_scores(tokenize(question))
    best = sorted(range(len(pages)), key=lambda i: scores[i], reverse=True)
    return [pages[i] for i in best[:NUM_DOCS]]


def answer_question(question):
    found = find_pages(question)

    context = ""
    for page in found:
        context += '<doc id="' + page["id"] + '">'
        context += page["title"] + ". " + page["text"] + "</doc>\n"

    response = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": context + "\nQuestion: " + question},
        ],
    )
    reply = response.choices[0].message.content

    if "cannot answer" in reply.lower():
        return {"answer": reply, "citations": [], "answerable": False}

    # the model puts the page id in brackets at the end, we return the ids separately
    answer = reply.split(" [")[0]
    citations = [page["id"] for page in found]
    return {"answer": answer, "citations": citations, "answerable": True}


def main():
    parser = argparse.ArgumentParser(prog="solution")
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer one question, print one JSON object")
    ask.add_argument("question")
    batch = sub.add_parser("batch", help="answer a JSONL file of questions")
    batch.add_argument("--questions", required=True)
    batch.add_argument("--output", required=True)
    args = parser.parse_args()

    if args.command == "ask":
        print(json.dumps(answer_question(args.question)))
        return 0

    results = []
    with open(args.questions) as f:
        for line in f:
            if line.strip():
                q = json.loads(line)
                result = answer_question(q["question"])
                result["id"] = q["id"]
                results.append(result)

    with open(args.output, "w") as f:
        for r in results:
            f.write(json.dumps(r) + "\n")
    print(f"wrote {len(results)} answers to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
