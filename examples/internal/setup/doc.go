// Package setup turns the environment of an example into the model and the
// store it runs on, so that every example under examples/ is configured the
// same way, in one place:
//
//	LLM              openai, gemini or echo. Unset: openai when
//	                 OPENAI_API_KEY or OPENAI_BASE_URL is set, else gemini
//	                 when GEMINI_API_KEY is set, else the caller's fallback
//	                 model (the quickstart's offline demo model, or echo).
//	OPENAI_API_KEY   OpenAI's API key (optional with OPENAI_BASE_URL)
//	OPENAI_BASE_URL  an OpenAI-compatible server (Ollama, vLLM, a gateway)
//	OPENAI_MODEL     the chat model (default: the adapter's)
//	GEMINI_API_KEY   the Gemini API key
//	GEMINI_MODEL     the model (default: the adapter's)
//	GEMINI_BASE_URL  a proxy or gateway in front of the Gemini API
//	STORE            memory, sqlite:PATH or postgres:DSN (default: the
//	                 caller's)
//
// The real providers are wrapped in [llm.Retry]. Only examples read the
// environment: the library never does, and this package reads nothing
// itself, it is given a getenv function (os.Getenv, or a map in tests).
//
// # Concurrency
//
// The functions are safe for concurrent use; what they return is as safe
// as its own package documents.
//
// # Errors
//
// A setting that is wrong or missing gives an error wrapping [ErrConfig]
// whose text is one line that starts with the variable's name, such as
// "LLM=eliza: use openai, gemini or echo", meant to be printed as it is
// after the example's name (which is why it carries no package prefix).
// Examples exit with status 2 on it. A store that is well configured but
// cannot be opened (the database is down) gives an error that does not
// wrap ErrConfig.
//
// # Privacy
//
// API keys and database DSNs, which may hold a password, never appear in
// errors or in the descriptions returned for printing.
package setup
