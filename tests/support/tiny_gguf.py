"""A tiny llama-architecture model written with the `gguf` package, so tests drive a real inference engine
(llama.cpp's own server, run by xllamacpp on a loopback port, OpenAI protocol) without downloading any weights.

The model is about 1 MB of f32 random weights (2 layers, 64-wide embedding, 4 heads), written in a fraction of a
second and byte-identical for the same seed. Its vocabulary is SentencePiece-style (the "llama" tokenizer model):
``<unk>``, ``<s>``, ``</s>``, the 256 byte-fallback tokens, printable ASCII with and without the "▁" space marker,
and a few hundred English word pieces. The GGUF metadata carries a chat template, so ``/v1/chat/completions`` works.

Random weights would often emit end-of-sequence or raw byte tokens at once (an empty answer, or invalid UTF-8).
One embedding channel is therefore a constant 1.0 for every token that no layer writes to (the attention-output and
FFN-down rows for it are zero), so after the final norm it is a large positive constant. The output weights of the
special tokens, the byte tokens and the bare "▁" are strongly negative on that channel, and those of word pieces
mildly positive: the model always writes non-empty, valid (ASCII) text made of word pieces, and never stops before
``max_tokens``. Word salad, but real tokens through a real engine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# A few hundred common English words; each becomes "▁word" (word start) and "word" (inside a word).
WORDS = """
the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you
were her she there been one all we their has would when if so no will what more out up into do any your about
than them some could him time only new may these people two first way like our other after over also back years
where most made before through well much should because each just those how too good very still own see down
life work day even long great same state city world write writing written wrote river water story letter house
garden bread music night morning light book school children family friend country union government power nation
war peace law free trade money tax court army public reason question answer help learn think know feel want need
love small large old young high right left best better little many every again never always here today place
home hand head eye face word name part side kind ask tell make take give find keep begin seem show hear play run
move live believe bring happen walk sit stand lose pay meet include continue set change lead understand watch
follow stop create speak read allow add spend grow open win offer remember consider appear buy wait serve die
send expect build stay fall cut reach remain suggest raise pass sell require report decide pull profile persona
style tone short long formal casual friendly answer reply message chat model prompt context memory note notes
email draft summary paper project team meeting plan idea example question topic research study data result
results method test value small simple clear direct warm polite brief detail details point points list
sentence paragraph voice preference preferences user users person name document documents text page section
""".split()

# Common suffixes and fragments, so unknown words split into a few pieces rather than single characters.
PIECES = "ing ed er ers es s ly tion tions ment ness able al ive ous est ful less ize ise re un in th st nd".split()

CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "<|{{ message['role'] }}|>\n{{ message['content'] }}\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)

UNK_ID, BOS_ID, EOS_ID = 0, 1, 2


def vocabulary() -> tuple[list[str], list[float], list[int]]:
    """The tokens, their SentencePiece scores and their ``gguf.TokenType`` values (as ints)."""
    from gguf import TokenType

    tokens = ["<unk>", "<s>", "</s>"]
    types = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL]
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [TokenType.BYTE] * 256
    chars = [chr(c) for c in range(33, 127)]
    seen = set(tokens)
    # Every prefix of a piece is a piece too: llama.cpp builds pieces by merging adjacent pairs, so "▁writing"
    # is only reachable through "▁wr", "▁wri", ... Inside a word, the whole word and the suffixes are enough.
    prefixes = [w[:n] for w in ("▁" + word for word in WORDS) for n in range(2, len(w) + 1)]
    for piece in ["▁", *chars, *("▁" + c for c in chars), *PIECES, *prefixes, *WORDS]:
        if piece not in seen:
            seen.add(piece)
            tokens.append(piece)
            types.append(TokenType.NORMAL)
    # llama.cpp's SentencePiece tokenizer merges the best-scored pieces first: longer pieces win.
    scores = [float(len(tok)) - 100.0 if t == TokenType.NORMAL else 0.0 for tok, t in zip(tokens, types)]
    return tokens, scores, [int(t) for t in types]


def write_tiny_model(path: Path, seed: int = 0, n_embd: int = 64, n_layer: int = 2, n_head: int = 4,
                     n_ff: int = 128, n_ctx_train: int = 8192) -> Path:
    """Write the model to ``path`` (about 1 MB, byte-identical for the same arguments) and return the path."""
    import gguf

    path = Path(path)
    rng = np.random.default_rng(seed)
    tokens, scores, types = vocabulary()
    n_vocab = len(tokens)
    const = n_embd - 1  # the reserved constant channel

    def w(*shape: int, scale: float) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("playground-tiny-test-model")
    writer.add_context_length(n_ctx_train)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head)
    writer.add_rope_dimension_count(n_embd // n_head)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_unk_token_id(UNK_ID)
    writer.add_bos_token_id(BOS_ID)
    writer.add_eos_token_id(EOS_ID)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_chat_template(CHAT_TEMPLATE)

    embd = w(n_vocab, n_embd, scale=0.5)
    embd[:, const] = 1.0
    writer.add_tensor("token_embd.weight", embd)
    for i in range(n_layer):
        writer.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(n_embd, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.attn_q.weight", w(n_embd, n_embd, scale=0.2))
        writer.add_tensor(f"blk.{i}.attn_k.weight", w(n_embd, n_embd, scale=0.2))
        writer.add_tensor(f"blk.{i}.attn_v.weight", w(n_embd, n_embd, scale=0.1))
        out = w(n_embd, n_embd, scale=0.05)
        out[const, :] = 0.0  # (out_features, in_features): nothing is written to the constant channel
        writer.add_tensor(f"blk.{i}.attn_output.weight", out)
        writer.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(n_embd, dtype=np.float32))
        writer.add_tensor(f"blk.{i}.ffn_gate.weight", w(n_ff, n_embd, scale=0.1))
        writer.add_tensor(f"blk.{i}.ffn_up.weight", w(n_ff, n_embd, scale=0.1))
        down = w(n_embd, n_ff, scale=0.05)
        down[const, :] = 0.0
        writer.add_tensor(f"blk.{i}.ffn_down.weight", down)
    writer.add_tensor("output_norm.weight", np.ones(n_embd, dtype=np.float32))

    output = w(n_vocab, n_embd, scale=1.0)
    normal = int(gguf.TokenType.NORMAL)
    whole_words = set(WORDS)
    for t, (tok, typ) in enumerate(zip(tokens, types)):
        if typ != normal or tok == "▁":
            output[t, const] = -100.0  # specials, byte fallbacks and a bare space are never chosen
        elif tok.startswith("▁") and tok[1:] in whole_words:
            output[t, const] = 3.0  # whole words after a space are preferred: the salad reads as words
        else:
            output[t, const] = 0.0
    writer.add_tensor("output.weight", output)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
