package dev.onnxskip.data;

/** The token-level tensors a tokenizer produces, which a model's inputs take. */
public enum TokenRole { INPUT_IDS, ATTENTION_MASK, TOKEN_TYPE_IDS }
