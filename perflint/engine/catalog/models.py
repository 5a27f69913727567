"""Loaders of models, tokenizers and pipelines from libraries other than NumPy, torch, pandas
and SciPy: joblib, ONNX Runtime, spaCy, sentence-transformers, transformers and Keras.

These libraries are not dependencies of perflint (nor of its tests): their signatures follow
their documentation, with ``**kwargs`` where a library accepts more than the rules need, and
tests/engine/test_catalog.py checks them only where the library is installed.
"""

from __future__ import annotations

from perflint.engine.catalog.records import LOADS_MODEL, function

FUNCTIONS = (
    function("joblib.load", "filename, mmap_mode, ensure_native_byte_order", LOADS_MODEL),
    function(
        "onnxruntime.InferenceSession",
        "path_or_bytes, sess_options, providers, provider_options, **kwargs",
        LOADS_MODEL,
    ),
    function("spacy.load", "name, *, vocab, disable, enable, exclude, config", LOADS_MODEL),
    function(
        "sentence_transformers.SentenceTransformer",
        "model_name_or_path, modules, device, **kwargs",
        LOADS_MODEL,
    ),
    function(
        "transformers.pipeline",
        "task, model, config, tokenizer, feature_extractor, image_processor, video_processor, "
        "processor, revision, use_fast, token, device, device_map, dtype, trust_remote_code, "
        "model_kwargs, pipeline_class, **kwargs",
        LOADS_MODEL,
    ),
    function(
        "tensorflow.keras.models.load_model",
        "filepath, custom_objects, compile, safe_mode",
        LOADS_MODEL,
        aliases=("keras.models.load_model", "keras.saving.load_model"),
    ),
)
