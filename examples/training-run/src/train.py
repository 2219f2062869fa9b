"""A tiny "training" script: prints its progress and writes a metric under ./outputs."""

import argparse
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=1)
args = parser.parse_args()

learning_rate = float(os.environ.get("AZUREML_INPUT_learning_rate", "0.1"))
print(f"training mode {os.environ.get('TRAINING_MODE', '?')}, learning rate {learning_rate}")
loss = 1.0
for epoch in range(1, args.epochs + 1):
    loss *= 1.0 - learning_rate
    print(f"epoch {epoch}: loss {loss:.4f}", flush=True)

os.makedirs("outputs", exist_ok=True)
with open(os.path.join("outputs", "metrics.json"), "w") as metrics:
    json.dump({"loss": loss, "epochs": args.epochs}, metrics)
print("wrote outputs/metrics.json")
