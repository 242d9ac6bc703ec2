"""IsolationForest (scikit-learn defaults) for bench:quality: reads one JSON job on stdin,
{"train": [[...]], "test": [[...]], "seeds": [1, 2, 3]}, fits on train per seed, and writes
{"sklearn": "<version>", "scores": [[...], ...]} (higher = more anomalous) on stdout."""
import json
import sys

import numpy as np
import sklearn
from sklearn.ensemble import IsolationForest

job = json.load(sys.stdin)
train = np.asarray(job["train"], dtype=np.float64)
test = np.asarray(job["test"], dtype=np.float64)
scores = []
for seed in job["seeds"]:
    model = IsolationForest(random_state=int(seed)).fit(train)
    scores.append((-model.score_samples(test)).tolist())
json.dump({"sklearn": sklearn.__version__, "scores": scores}, sys.stdout)
