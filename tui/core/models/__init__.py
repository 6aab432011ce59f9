"""Model backends: which model a turn talks to (OpenAI, any OpenAI-compatible server, a model
the SDK routes by prefix through any-llm or LiteLLM, the bundled GGUF model through
llama-cpp-python), the MCP servers an agent reaches, and the
wrappers around a model's stream (the text tap that sees what the SDK may drop, the
stream end check, the request cache).
"""
