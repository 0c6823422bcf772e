"""LoRA fine-tuning of the LLM on (prompt, target) pairs with peft and the transformers ``Trainer``.

The loss covers the target tokens only (prompt tokens are labelled -100), and the model computes the vocabulary's
logits only where the next token is a target (``TargetLogitsOnly``): the same loss, a step about 1.25× faster on 2
CPU cores (``benchmarks/lora_step.py``). ``train_lora`` writes the adapter,
``training_args.json``, ``lora_settings.json`` and ``loss_curve.json`` to ``out_dir`` (built in a temp dir, then
renamed into place); ``load_lora`` puts a saved adapter on a base model.

>>> import contextlib, copy, io, tempfile
>>> out = tempfile.mkdtemp() + "/adapter"
>>> pairs = [("Seeker: a heist movie? Recommender:", " Heat (1995)")] * 4   # (rendered prompt, target) pairs
>>> with contextlib.redirect_stdout(io.StringIO()):  # the Trainer prints its log
...     _ = train_lora(copy.deepcopy(model), tokenizer, pairs, out, max_steps=1, settings=LoraSettings(batch_size=2))
>>> tuned = load_lora(copy.deepcopy(model), out, merge=True)  # peft wraps the model it is given
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from datasets import Dataset
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import DataCollatorForSeq2Seq, Trainer, TrainerCallback, TrainingArguments, set_seed
from transformers.trainer_utils import get_last_checkpoint

from llmkb.errors import LLMKBError, ModelError

CHECKPOINT_STEPS = 10


@dataclass(frozen=True)
class LoraSettings:
    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: tuple[str, ...] = ("q_proj", "v_proj")
    learning_rate: float = 2e-4
    batch_size: int = 4
    max_length: int = 512  # prompt is cut from the left so that prompt + target fits
    seed: int = 0

    def peft_config(self) -> LoraConfig:
        """These settings as peft's ``LoraConfig`` for a causal LM."""
        return LoraConfig(r=self.r, lora_alpha=self.alpha, lora_dropout=self.dropout,
                          target_modules=list(self.target_modules), task_type="CAUSAL_LM")


def train_lora(
    model, tokenizer, pairs: Sequence[tuple[str, str]], out_dir: str | Path, max_steps: int = 100,
    settings: LoraSettings = LoraSettings(), resume: bool = False, about: dict | None = None,
    report: Callable[[float], None] | None = None, snapshots: Sequence[int] = (),
):
    """Fine-tune LoRA adapters on ``pairs`` of (rendered prompt, target text) for ``max_steps`` steps.

    Returns the trained ``PeftModel`` (``model`` is modified in place: peft wraps its layers). The target gets
    the tokenizer's EOS appended so the model learns to stop. ``resume``: save a checkpoint every
    ``CHECKPOINT_STEPS`` steps in ``.<out_dir name>-checkpoints`` beside ``out_dir`` and go on from the last one
    (pass the same pairs and settings). ``about``: written to ``about.json`` with the adapter. ``report``: called
    with the fraction of steps done after each step. ``snapshots``: steps after which the adapter is also kept, as
    ``<out_dir>/snapshots/step-N`` (to choose the training length on validation data).
    """
    if not pairs:
        raise LLMKBError("no (prompt, target) pairs to train on; build them from the training samples first")
    out_dir = Path(out_dir)
    dataset = Dataset.from_list([_tokenize(tokenizer, p, t, settings.max_length) for p, t in pairs])
    set_seed(settings.seed)  # LoRA's A matrices are drawn here, before the Trainer seeds: not from the caller's RNG state
    peft_model = get_peft_model(model, settings.peft_config())
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    checkpoints = out_dir.parent / f".{out_dir.name}-checkpoints"
    kept = out_dir.parent / f".{out_dir.name}-snapshots"  # outlives an interruption, like the checkpoints
    saving = dict(save_strategy="steps", save_steps=CHECKPOINT_STEPS, save_total_limit=1) if resume else \
        dict(save_strategy="no")
    args = TrainingArguments(
        output_dir=str(checkpoints if resume else tmp / "trainer"), max_steps=max_steps,
        per_device_train_batch_size=settings.batch_size, learning_rate=settings.learning_rate, logging_steps=1,
        report_to=[], use_cpu=True, seed=settings.seed, remove_unused_columns=False, disable_tqdm=max_steps < 10,
        **saving,
    )
    collator = TargetLogitsOnly(DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100))
    trainer = Trainer(model=peft_model, args=args, train_dataset=dataset, data_collator=collator,
                      callbacks=[*([_Progress(report, max_steps)] if report else []),
                                 *([_Snapshots(kept, set(snapshots))] if snapshots else [])])
    last = get_last_checkpoint(str(checkpoints)) if resume and checkpoints.is_dir() else None
    if last:
        print(f"resuming LoRA training from {last}")
    trainer.train(resume_from_checkpoint=last)
    peft_model.eval()
    try:
        peft_model.save_pretrained(tmp)
        (tmp / "training_args.json").write_text(args.to_json_string())
        (tmp / "lora_settings.json").write_text(json.dumps(dataclasses.asdict(settings), indent=2))
        losses = [{"step": e["step"], "loss": e["loss"]} for e in trainer.state.log_history if "loss" in e]
        (tmp / "loss_curve.json").write_text(json.dumps(losses, indent=2))
        (tmp / "about.json").write_text(json.dumps(about or {}, indent=2))
        shutil.rmtree(tmp / "trainer", ignore_errors=True)
        if kept.is_dir():
            kept.rename(tmp / "snapshots")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
        shutil.rmtree(checkpoints, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return peft_model


@dataclass(frozen=True)
class TargetLogitsOnly:
    """Pads a batch with ``pad``, then keeps only the positions whose next token is a target somewhere in the batch:
    ``logits_to_keep`` (the model's output layer runs there alone) and ``shift_labels`` (their next tokens, which
    transformers' causal-LM loss and the ``Trainer``'s token count read instead of shifting ``labels``). The prompt
    positions, most of each row, only ever predicted -100."""

    pad: Callable[[list[dict]], dict]

    def __call__(self, features: list[dict]) -> dict:
        batch = self.pad(features)
        following = batch["labels"][:, 1:]
        keep = following.ne(-100).any(dim=0).nonzero().squeeze(1)
        return {**batch, "logits_to_keep": keep, "shift_labels": following[:, keep]}


class _Progress(TrainerCallback):
    def __init__(self, report: Callable[[float], None], steps: int):
        self.report, self.steps = report, steps

    def on_step_end(self, args, state, control, **kwargs):
        self.report(state.global_step / self.steps)


class _Snapshots(TrainerCallback):
    """Saves the adapter after each of ``steps`` into ``folder/step-N`` (written to a temp name, then renamed)."""

    def __init__(self, folder: Path, steps: set[int]):
        self.folder, self.steps = folder, steps

    def on_step_end(self, args, state, control, model=None, **kwargs):
        target = self.folder / f"step-{state.global_step}"
        if state.global_step in self.steps and not target.is_dir():
            partial = self.folder / f".step-{state.global_step}"
            shutil.rmtree(partial, ignore_errors=True)
            model.save_pretrained(partial)
            partial.rename(target)


def load_lora(model, adapter_dir: str | Path, merge: bool = False):
    """``model`` with the adapter saved in ``adapter_dir``; ``merge=True`` folds it into plain linear layers."""
    adapter_dir = Path(adapter_dir)
    if not (adapter_dir / "adapter_config.json").is_file():
        raise ModelError(f"{adapter_dir} holds no LoRA adapter (adapter_config.json missing); run train_lora first")
    try:
        tuned = PeftModel.from_pretrained(model, adapter_dir)
    except Exception as error:  # shape mismatch when the adapter was trained on another base model, etc.
        raise ModelError(f"cannot apply the adapter in {adapter_dir}: {error}; was it trained on this base model?") from error
    tuned = tuned.merge_and_unload() if merge else tuned
    return tuned.eval()


def _tokenize(tokenizer, prompt: str, target: str, max_length: int) -> dict:
    target_ids = tokenizer.encode(target + (tokenizer.eos_token or ""), add_special_tokens=False)[:max_length]
    prompt_ids = tokenizer.encode(prompt, add_special_tokens=False)
    prompt_ids = prompt_ids[max(0, len(prompt_ids) - (max_length - len(target_ids))) :]
    ids = prompt_ids + target_ids
    return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": [-100] * len(prompt_ids) + target_ids}
