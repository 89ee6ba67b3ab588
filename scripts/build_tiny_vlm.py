"""Build a tiny, randomly initialised vision-language model that vLLM on CPU can serve.

A shrunken ``Idefics3ForConditionalGeneration`` (SmolVLM's architecture: a
SigLIP vision tower, a pixel-shuffle connector and a Llama language model),
each part one or two layers wide of 32-64 units (~0.2M parameters), with a
byte-level BPE tokenizer, a SmolVLM-style chat template, and an image
processor that scales every image to one 64x64 tile: 16 ``<image>`` tokens
per image. The answers are noise: tests use it to see that the engine accepts
image parts (200, and the prompt grows with each image). Its tokenizer has
``<think>`` and ``<tool_call>``, so the engine's usual command line serves it.

Why not Qwen2-VL: vLLM 0.32's ``qwen2_vl`` (also llava, qwen2.5-vl, qwen3-vl,
gemma3) imports transformers' torchvision image processor, and the engine venv
has no torchvision, so vLLM cannot even inspect the architecture. ``idefics3``
(like ``smolvlm``, ``paligemma``, ``blip2``) loads without it.

Seeded; a few seconds. Run with the engine venv's python (torch, transformers):
``~/.cache/nscale-jupyter/vllm-0.32.0/bin/python scripts/build_tiny_vlm.py --out DIR``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

SEED = 1234
#: The vision tower's input side (one tile per image) and patch side.
IMAGE_SIZE, PATCH = 64, 8
SCALE = 2  # pixel shuffle: (64 / 8)^2 / 2^2 = 16 tokens per image
IMAGE_SEQ_LEN = (IMAGE_SIZE // PATCH) ** 2 // SCALE**2
SPECIAL = [
    "<|endoftext|>",
    "<|im_start|>",
    "<end_of_utterance>",
    "<fake_token_around_image>",
    "<image>",
    "<global-img>",
    *(f"<row_{i}_col_{j}>" for i in range(1, 7) for j in range(1, 7)),
]

#: Plain added tokens: the engine's qwen3 reasoning and hermes tool parsers look them up.
ADDED = ["<think>", "</think>", "<tool_call>", "</tool_call>"]

# SmolVLM's template: an image part becomes <image>, which the processor expands.
CHAT_TEMPLATE = (
    "<|im_start|>{% for message in messages %}"
    "{{ message['role'] | capitalize }}"
    "{% if message['content'] is string %}: {{ message['content'] }}"
    "{% else %}{% if message['content'][0]['type'] == 'image' %}:{% else %}: {% endif %}"
    "{% for line in message['content'] %}"
    "{% if line['type'] == 'text' %}{{ line['text'] }}"
    "{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}"
    "{% endfor %}{% endif %}<end_of_utterance>\n{% endfor %}"
    "{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)

TEXTS = [
    "Hello! How can I help you today?",
    "What is in this picture? A red square on a white background.",
    "Describe the image. It shows a cat, a dog and a small house.",
    "The quick brown fox jumps over the lazy dog. 0123456789",
    "User: Assistant: System: You are a helpful assistant.",
]


def build_tokenizer() -> Any:
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=384,
        special_tokens=[],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(TEXTS * 4, trainer)
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL])
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in ADDED])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|im_start|>",
        eos_token="<end_of_utterance>",
        pad_token="<|endoftext|>",
        unk_token=None,
        model_max_length=1024,
        add_bos_token=False,
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build(out: Path) -> None:
    import torch
    from transformers import (
        Idefics3Config,
        Idefics3ForConditionalGeneration,
        Idefics3ImageProcessor,
        Idefics3Processor,
    )

    torch.manual_seed(SEED)
    tokenizer = build_tokenizer()
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL}
    config = Idefics3Config(
        text_config={
            "model_type": "llama",
            "vocab_size": len(tokenizer),
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "num_key_value_heads": 1,
            "max_position_embeddings": 1024,
            "rms_norm_eps": 1e-6,
            "bos_token_id": ids["<|im_start|>"],
            "eos_token_id": ids["<end_of_utterance>"],
            "pad_token_id": ids["<|endoftext|>"],
            "tie_word_embeddings": True,
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "image_size": IMAGE_SIZE,
            "patch_size": PATCH,
        },
        scale_factor=SCALE,
        image_token_id=ids["<image>"],
        pad_token_id=ids["<|endoftext|>"],
        tie_word_embeddings=True,
    )
    model = Idefics3ForConditionalGeneration(config).to(torch.float32).eval()
    params = sum(p.numel() for p in model.parameters())
    image_processor = Idefics3ImageProcessor(
        do_resize=True,
        size={"longest_edge": IMAGE_SIZE},
        max_image_size={"longest_edge": IMAGE_SIZE},
        do_image_splitting=False,
    )
    processor = Idefics3Processor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        image_seq_len=IMAGE_SEQ_LEN,
        chat_template=CHAT_TEMPLATE,
    )
    out.mkdir(parents=True, exist_ok=True)
    model.generation_config.eos_token_id = ids["<end_of_utterance>"]
    model.generation_config.pad_token_id = ids["<|endoftext|>"]
    model.save_pretrained(out, safe_serialization=True)
    processor.save_pretrained(out)
    print(f"tiny VLM: {params / 1e3:.0f}k parameters, vocab {len(tokenizer)} -> {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    build(parser.parse_args().out)


if __name__ == "__main__":
    main()
