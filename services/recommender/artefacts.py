"""Model artefacts: ``<store>/<kind>/<version>/model.skops`` plus ``metadata.json``, no pickle.

Loading trusts only the types listed here and refuses an artefact written by another
scikit-learn version or trained on other features than this version computes.
``<store>/<kind>/CURRENT`` names the promoted version; a promoted artefact that is refused
leaves its kind to the prior until a new model is promoted.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
import skops.io as sio

from services.recommender.rankers import LearnedRanker, feature_names
from shared.messages.recommendations import SuggestionKind

logger = logging.getLogger("springboard.recommender")

TRUSTED = ["sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"]
"""Beyond what skops trusts by default, all a HistGradientBoosting pipeline holds."""


class UntrustedArtefact(ValueError):
    """An artefact with types we do not load, from another scikit-learn version, or trained
    on other features."""


@dataclass(frozen=True)
class Saved:
    path: Path
    metadata: dict[str, Any]


def data_hash(x: np.ndarray, y: np.ndarray) -> str:
    digest = hashlib.sha256(np.ascontiguousarray(x).tobytes())
    digest.update(np.ascontiguousarray(y).tobytes())
    return digest.hexdigest()[:16]


def save(
    store: Path,
    kind: SuggestionKind,
    pipeline: Any,
    *,
    feature_names: list[str],
    cutoff: datetime,
    x: np.ndarray,
    y: np.ndarray,
    metrics: dict[str, Any],
) -> Saved:
    recipe = metrics.get("recipe", "model")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    version = f"{recipe}-{kind.value}-{stamp}-{data_hash(x, y)[:6]}"
    folder = store / kind.value / version
    folder.mkdir(parents=True, exist_ok=True)
    sio.dump(pipeline, folder / "model.skops")
    metadata = {
        "version": version,
        "kind": kind.value,
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "skops": package_version("skops"),
        "feature_names": feature_names,
        "training_cutoff": cutoff.isoformat(),
        "rows": len(y),
        "positives": int(y.sum()),
        "data_hash": data_hash(x, y),
        "metrics": metrics,
        "created_at": datetime.now(UTC).isoformat(),
    }
    (folder / "metadata.json").write_text(json.dumps(metadata, indent=2))
    return Saved(folder, metadata)


def promote(store: Path, kind: SuggestionKind, version: str) -> None:
    pointer = store / kind.value / "CURRENT"
    temporary = pointer.with_suffix(".tmp")
    temporary.write_text(version)
    temporary.replace(pointer)


def load(folder: Path) -> LearnedRanker:
    metadata = json.loads((folder / "metadata.json").read_text())
    if metadata["sklearn"] != sklearn.__version__:
        raise UntrustedArtefact(
            f"{folder.name} was written by scikit-learn {metadata['sklearn']}, "
            f"this is {sklearn.__version__}: retrain it"
        )
    path = folder / "model.skops"
    unknown = [t for t in sio.get_untrusted_types(file=path) if t not in TRUSTED]
    if unknown:
        raise UntrustedArtefact(f"{folder.name} holds types not trusted here: {unknown}")
    kind = metadata.get("kind")
    expected = list(feature_names(SuggestionKind(kind))) if kind in set(SuggestionKind) else None
    if expected is None or metadata.get("feature_names") != expected:
        raise UntrustedArtefact(
            f"{folder.name} was trained on the features {metadata.get('feature_names')}, "
            f"this version computes {expected}: retrain it"
        )
    return LearnedRanker(sio.load(path, trusted=TRUSTED), metadata["version"], metadata)


def load_current(store: Path) -> dict[SuggestionKind, LearnedRanker]:
    """The promoted model of each kind that has one that loads. One that is refused (after
    an upgrade, say) is logged, and the prior serves its kind: ranking goes on."""
    models = {}
    for kind in SuggestionKind:
        pointer = store / kind.value / "CURRENT"
        if not pointer.exists():
            continue
        try:
            models[kind] = load(store / kind.value / pointer.read_text().strip())
        except UntrustedArtefact as error:
            logger.error("the promoted %s model is not loaded, the prior serves: %s", kind, error)
    return models
