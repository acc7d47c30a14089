"""Implicit ALS fitted by Spark MLlib (``pyspark.ml.recommendation.ALS``), served like ``ALS``.

For event logs too large for one process: Spark fits the item factors, then they are handed
to the same numpy fold-in scoring as :class:`~recommender.cf.als.ALS` (this class subclasses
it), inside the same ``implicit`` model object, so ``state`` / ``restore`` and every score are
identical and a saved model loads, and serves, where pyspark is not installed. pyspark (and
pyarrow, which moves the data in and the factors out as Parquet) is the optional extra
``spark``: ``pip install '.[spark]'``.

Spark runs in local mode here: ``local[cores]``, the driver's heap set before its JVM starts
(in local mode the driver is the executor, so that heap holds everything), the web UI off,
few shuffle partitions and ALS blocks (the defaults, 200 and 10, are sized for a cluster and
only add task overhead on two cores), integer ids.

Hyper-parameters keep ``implicit``'s meaning; two of MLlib's conventions differ:

- *Confidence.* ``implicit``: ``c = alpha * r``. MLlib: ``c = 1 + alpha' * r'`` (preference 1
  only for ``r' > 0``). Spark therefore gets ``alpha' = 1`` and ``r' = alpha * r - 1``: the
  same ``c`` for every interaction with ``alpha * r > 1`` (all of them at the defaults, alpha
  5 and weights of 1). Weaker ones are clipped to ``c`` just above 1 (MLlib cannot express a
  positive preference with less confidence than an unobserved pair).
- *Regularization.* MLlib multiplies ``regParam`` by the number of interactions of the user or
  item being solved (ALS-WR, Zhou et al. 2008; the MLlib guide, "Scaling of the regularization
  parameter"; there is no switch to turn it off). ``implicit`` uses one ``lambda`` for all.
  ``regParam = lambda / (mean interactions per item)`` gives the average item the same
  ``lambda`` as ``implicit``: the item factors are what is kept (users are folded in at
  serving time with the constant ``lambda``). Popular items are regularized more than in
  ``implicit``, rare ones less. ``benchmarks/recsys.py``, defaults (256 factors): NDCG@10
  -4.0 % against in-process ALS on MovieLens-100k, +21.4 % on Amazon Beauty (where it also
  recommends 65 % of the items instead of 15 %). Matching the average *user* instead
  (``lambda / mean interactions per user``) gave +1.6 % on MovieLens but -65 % on Beauty.

MLlib solves each least-squares problem exactly (Cholesky, ``factors^3`` per user and item)
where ``implicit`` takes three conjugate-gradient steps: at 256 factors on two cores Spark
trained 20-100 times slower (``benchmarks/recsys_scaling.py`` and ``docs/scaling.md``).
"""

from __future__ import annotations

import importlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Self

import numpy as np
import scipy.sparse as sp

from recommender.cf.als import ALS

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

INSTALL_HINT = "Spark ALS needs the optional extra 'spark': pip install '.[spark]'"
DRIVER_MEMORY = "4g"
CORES = 2
# Tasks per stage: two per core balances uneven blocks without the cluster defaults' overhead.
PARTITIONS_PER_CORE = 2
# Lowest confidence above an unobserved pair's (1) that MLlib accepts as a preference.
MIN_CONFIDENCE_GAIN = 1e-3


def _require(module: str) -> ModuleType:
    """Import an optional dependency, or fail with the install hint."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(f"{INSTALL_HINT} ({module} is missing)") from error


@contextmanager
def _single_threaded_native_blas() -> Iterator[None]:
    """The JVM inherits this process's environment when it starts. MLlib solves many small
    systems, ``cores`` tasks at a time, through the system BLAS when one is installed
    (``libblas.so.3``, e.g. Debian's libopenblas0; pure Java otherwise): OpenBLAS's own
    threads underneath would only contend, as for ``ALS``."""
    saved = os.environ.get("OPENBLAS_NUM_THREADS")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("OPENBLAS_NUM_THREADS", None)


def local_spark(driver_memory: str = DRIVER_MEMORY, cores: int = CORES) -> SparkSession:
    """The process's Spark session, started in local mode if none runs yet.

    ``spark.driver.memory`` only counts before the JVM starts: pyspark passes the builder's
    settings to ``spark-submit`` when it launches the JVM, and ignores them for a session that
    already runs (then its own settings stay)."""
    sql = _require("pyspark.sql")
    active = sql.SparkSession.getActiveSession()
    if active is not None:
        return active
    partitions = str(cores * PARTITIONS_PER_CORE)
    builder = (
        sql.SparkSession.builder.master(f"local[{cores}]")
        .appName("daogou-als")
        .config("spark.driver.memory", driver_memory)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", partitions)
        .config("spark.default.parallelism", partitions)
    )
    with _single_threaded_native_blas():
        session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def spark_ratings(user_items: sp.csr_matrix, alpha: float) -> dict[str, np.ndarray]:
    """Columns ``user``, ``item`` (int32) and ``rating`` (float32) for MLlib with ``alpha' = 1``,
    so that its confidence ``1 + rating`` equals implicit's ``alpha * weight``."""
    coo = sp.coo_matrix(user_items)
    keep = coo.data > 0
    rating = np.maximum(alpha * coo.data[keep].astype(np.float64) - 1.0, MIN_CONFIDENCE_GAIN)
    return {
        "user": coo.row[keep].astype(np.int32),
        "item": coo.col[keep].astype(np.int32),
        "rating": rating.astype(np.float32),
    }


def spark_reg_param(user_items: sp.csr_matrix, regularization: float) -> float:
    """MLlib's ``regParam`` that gives an item of average popularity implicit's ``lambda``."""
    n_items = max(user_items.shape[1], 1)
    mean_per_item = max(user_items.nnz / n_items, 1.0)
    return regularization / mean_per_item


class SparkALS(ALS):
    """Hu, Koren and Volinsky's implicit ALS, fitted by Spark MLlib (see module doc).

    Same hyper-parameters, in ``implicit``'s units, and same scoring and saved state as
    :class:`ALS`. ``driver_memory`` and ``cores`` set up the local Spark session when this
    process has none yet; they are not saved (a loaded model needs no Spark).
    """

    name = "spark_als"
    unsaved_params = ("driver_memory", "cores")

    def __init__(
        self,
        factors: int = 256,
        regularization: float = 30.0,
        alpha: float = 5.0,
        iterations: int = 15,
        seed: int = 42,
        driver_memory: str = DRIVER_MEMORY,
        cores: int = CORES,
    ) -> None:
        super().__init__(factors, regularization, alpha, iterations, seed)
        self.driver_memory = driver_memory
        self.cores = cores

    def fit(self, user_items: sp.csr_matrix) -> Self:
        user_items = sp.csr_matrix(user_items, dtype=np.float32)
        user_items.sum_duplicates()
        spark = local_spark(self.driver_memory, self.cores)
        with tempfile.TemporaryDirectory(prefix="daogou-spark-als-") as folder:
            ratings = _write_parquet(spark_ratings(user_items, self.alpha), Path(folder, "in"))
            # ALS cuts its lineage every `checkpointInterval` (10) iterations only where a
            # checkpoint folder is set; without one, the lineage of 15 iterations once overflowed
            # the executor's stack while deserializing a task (CI: StackOverflowError).
            spark.sparkContext.setCheckpointDir(str(Path(folder, "checkpoints")))
            fitted = self._estimator(user_items).fit(spark.read.parquet(str(ratings)))
            factors_path = Path(folder, "items")
            fitted.itemFactors.write.parquet(str(factors_path))
            item_factors = _read_factors(factors_path, user_items.shape[1], self.factors)
        self._fitted(user_items.shape[1], self._model_around(item_factors))
        return self

    def _estimator(self, user_items: sp.csr_matrix) -> Any:
        recommendation = _require("pyspark.ml.recommendation")
        blocks = self.cores * PARTITIONS_PER_CORE
        return recommendation.ALS(
            rank=self.factors,
            maxIter=self.iterations,
            regParam=spark_reg_param(user_items, self.regularization),
            alpha=1.0,
            implicitPrefs=True,
            userCol="user",
            itemCol="item",
            ratingCol="rating",
            numUserBlocks=blocks,
            numItemBlocks=blocks,
            seed=self.seed,
        )

    def _model_around(self, item_factors: np.ndarray) -> Any:
        """implicit's model object around Spark's item factors, so that ``state`` writes what
        ``ALS`` writes. User factors are not kept: scoring folds each history in afresh."""
        model = self._implicit_model()
        model.item_factors = item_factors
        model.user_factors = np.zeros((0, self.factors), dtype=np.float32)
        return model


def _write_parquet(columns: dict[str, np.ndarray], path: Path) -> Path:
    pyarrow = _require("pyarrow")
    parquet = _require("pyarrow.parquet")
    parquet.write_table(pyarrow.table(columns), str(path))
    return path


def _read_factors(path: Path, n_items: int, factors: int) -> np.ndarray:
    """Spark's ``itemFactors`` (id, features) as a dense float32 ``n_items x factors`` array;
    items without interactions stay zero, as implicit's solve leaves them."""
    parquet = _require("pyarrow.parquet")
    table = parquet.read_table(str(path))
    ids = table.column("id").to_numpy()
    features = table.column("features").combine_chunks()
    values = features.flatten().to_numpy(zero_copy_only=False).reshape(len(ids), factors)
    out = np.zeros((n_items, factors), dtype=np.float32)
    out[ids] = values
    return out
