"""The baseline of bench.collector: a Flask endpoint that reads the body and answers, nothing else."""

from flask import Flask, request

app = Flask(__name__)


@app.post("/v1/<kind>")
def receive(kind: str):
    request.get_data()
    return {"success": True}
