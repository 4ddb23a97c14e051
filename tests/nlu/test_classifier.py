"""The linear intent classifier inside Rasa's own training data objects (runs in .venv-rasa).

Retrieval intents (`faq/<topic>`) reach intent classifiers as their base intent `faq`; the
confidence is a softmax whose temperature is fitted on held-out folds of the training data and
saved with the model.
"""

from __future__ import annotations

import json
import subprocess
import textwrap

from bot.config import REPO_ROOT

RASA_PYTHON = REPO_ROOT / ".venv-rasa" / "bin" / "python"

SCRIPT = textwrap.dedent(
    """
    import json, tempfile, warnings
    from pathlib import Path
    warnings.filterwarnings("ignore")
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from nlu.classifier import LinearIntentClassifier

    data = {
        "complaint_infrastruktur": ["jalan berlubang di depan sekolah", "aspal jalan rusak parah",
            "jembatan kampung retak", "trotoar ambles dekat pasar", "gorong-gorong jebol di gang",
            "jalan rusak belum diperbaiki", "lubang jalan bikin motor jatuh", "paving jalan lepas semua"],
        "complaint_bansos": ["bantuan pkh belum cair", "nama saya hilang dari dtks", "bpnt tidak diterima",
            "sembako bantuan tidak sampai", "blt dipotong pendamping", "kartu kks terblokir",
            "lansia belum dapat bantuan", "bansos salah sasaran di rt kami"],
        "faq/syarat_kk": ["syarat bikin kk baru apa saja", "gimana cara ngurus kk baru",
            "dokumen apa saja untuk kartu keluarga", "cara membuat kk setelah menikah"],
        "faq/jam_buka": ["dukcapil buka jam berapa", "jam pelayanan kantor dukcapil",
            "hari sabtu dukcapil buka tidak", "kapan dukcapil tutup"],
        "greet": ["halo", "selamat pagi", "hai min", "assalamualaikum", "permisi", "pagi kak"],
    }
    messages = [Message.build(text=t, intent=i) for i, texts in data.items() for t in texts]
    with tempfile.TemporaryDirectory() as tmp:
        storage = LocalModelStorage(Path(tmp))
        resource = Resource("linear")
        trained = LinearIntentClassifier.create({}, storage, resource, None)
        trained.train(TrainingData(messages))
        loaded = LinearIntentClassifier.load({}, storage, resource, None)
        texts = ["syarat bikin kk apa aja ya", "jalan depan rumah berlubang besar", "halo selamat pagi"]
        parsed = loaded.process([Message(data={"text": t}) for t in texts])
        print(json.dumps({
            "temperature": loaded.temperature,
            "intents": [m.get("intent") for m in parsed],
            "rankings": [m.get("intent_ranking") for m in parsed],
        }))
    """
)


def test_classifier_learns_base_faq_intent_and_saves_a_fitted_temperature() -> None:
    result = subprocess.run(
        [str(RASA_PYTHON), "-c", SCRIPT],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={"PYTHONPATH": str(REPO_ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
        check=True,
    )
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert [i["name"] for i in out["intents"]] == ["faq", "complaint_infrastruktur", "greet"]
    assert 0.01 <= out["temperature"] <= 2.0
    for ranking in out["rankings"]:
        confidences = [r["confidence"] for r in ranking]
        assert confidences == sorted(confidences, reverse=True)
        assert abs(sum(confidences) - 1.0) < 1e-6
        assert 0.0 < confidences[0] < 1.0
