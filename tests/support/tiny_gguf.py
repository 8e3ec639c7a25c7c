"""A tiny llama-architecture model written with the `gguf` package, so tests drive a real inference engine
(llama.cpp) without downloading weights.

Random weights would often emit end-of-sequence or raw byte tokens at once (empty or invalid UTF-8 output). One
embedding channel is therefore a constant 1.0 that no layer writes (the attention-output and FFN-down rows for it are
zero); the output weights of special and byte tokens are strongly negative on that channel, so the model always
writes text made of word pieces: word salad, but real tokens through a real engine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

WORDS = """the of and to in a is that for it as was with be by on not he this are or his from at which but have an
they you were her she there been one all we their has would when if so no will what more out up into do any your
about than them some could him time only new may these people two first way like our other after over also
back years where most made before through well much should because each just those how too any good very still
own see down life work day even long great same state city world own write river water story letter house
garden bread music night morning light book school children family friend country people union government
power nation war peace law people free trade money tax court army states public reason question answer help
learn think know feel want need love small large old young high right left best better little many every
again never always here today place home hand head eye face word name part side kind ask tell make take give
find keep begin seem show hear play run move live believe bring happen walk sit stand lose pay meet include
continue set change lead understand watch follow stop create speak read allow add spend grow open win offer
remember consider appear buy wait serve die send expect build stay fall cut reach kill remain suggest raise pass
sell require report decide pull""".split()


def _vocab() -> tuple[list[str], list[float], list[int]]:
    from gguf import TokenType

    tokens = ["<unk>", "<s>", "</s>"]
    types = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL]
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [TokenType.BYTE] * 256
    chars = [chr(c) for c in range(33, 127)]
    for ch in ["▁"] + chars + ["▁" + c for c in chars]:
        tokens.append(ch)
        types.append(TokenType.NORMAL)
    seen = set(tokens)
    for w in WORDS:
        for piece in ("▁" + w, w):
            if piece not in seen:
                seen.add(piece)
                tokens.append(piece)
                types.append(TokenType.NORMAL)
    # Higher scores merge first in llama.cpp's SentencePiece tokenizer: longer pieces win.
    scores = [0.0 if t in (TokenType.UNKNOWN, TokenType.CONTROL, TokenType.BYTE) else float(len(tok)) - 10.0
              for tok, t in zip(tokens, types)]
    return tokens, scores, [int(t) for t in types]


CHAT_TEMPLATE = (
    "{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)


def write_tiny_model(path: Path, seed: int = 0, n_embd: int = 64, n_layer: int = 2, n_head: int = 4,
                     n_ff: int = 128) -> Path:
    """Write the model to ``path`` (about 1 MB, byte-identical for the same seed) and return the path."""
    import gguf

    rng = np.random.default_rng(seed)
    tokens, scores, types = _vocab()
    n_vocab = len(tokens)
    const = n_embd - 1  # the reserved channel

    def w(*shape: int, scale: float = 0.1) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("playground-tiny-test-model")
    writer.add_context_length(8192)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head)
    writer.add_rope_dimension_count(n_embd // n_head)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_chat_template(CHAT_TEMPLATE)

    embd = w(n_vocab, n_embd, scale=0.05)
    embd[:, const] = 1.0
    writer.add_tensor("token_embd.weight", embd)
    for i in range(n_layer):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(n_embd, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.attn_q.weight", w(n_embd, n_embd))
        writer.add_tensor(f"blk.{i}.attn_k.weight", w(n_embd, n_embd))
        writer.add_tensor(f"blk.{i}.attn_v.weight", w(n_embd, n_embd))
        out = w(n_embd, n_embd)
        out[const, :] = 0.0  # never write the constant channel
        writer.add_tensor(f"blk.{i}.attn_output.weight", out)
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(n_embd, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.ffn_gate.weight", w(n_ff, n_embd))
        writer.add_tensor(f"blk.{i}.ffn_up.weight", w(n_ff, n_embd))
        down = w(n_embd, n_ff)
        down[const, :] = 0.0
        writer.add_tensor(f"blk.{i}.ffn_down.weight", down)
    writer.add_tensor("output_norm.weight", np.ones(n_embd, dtype=np.float32))
    output = w(n_vocab, n_embd, scale=1.0)
    output[:, const] = 0.0
    banned = [i for i, t in enumerate(types) if t != int(gguf.TokenType.NORMAL)]
    output[banned, const] = -100.0  # special and byte tokens are never chosen
    writer.add_tensor("output.weight", output)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
