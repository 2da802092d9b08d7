// Package llmtest provides fake language models for tests and the
// conformance suite that every [llm.Provider] adapter runs.
//
// [Scripted] answers with a script of [Step]s, built with [Reply],
// [ToolCalls], [Fail] and [Func], and records the requests it gets. It is the
// model used by the tests, examples and benchmarks of wagent and of host
// applications. [Echo] answers with the user's last message and allocates
// nothing but its response, for load tests.
//
// # Running the conformance suite
//
// [Run] checks an adapter against the [llm] contract, one subtest per
// [Case], with a fresh provider for each from a factory. The factory of an
// HTTP adapter starts an httptest server that plays the vendor's API: it
// compares the request body with golden JSON, the wire form of [Request](c)
// kept in testdata, and answers with a recorded response as documented on
// the Case constant. For the OpenAI adapter, for example:
//
//	func TestConformance(t *testing.T) {
//		llmtest.Run(t, func(t *testing.T, c llmtest.Case) llm.Provider {
//			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//				body, err := io.ReadAll(r.Body)
//				require.NoError(t, err)
//				require.JSONEq(t, golden(t, c.String()+".request.json"), string(body))
//				answer(t, w, c) // status, headers and body from testdata
//			}))
//			t.Cleanup(srv.Close)
//			p, err := openai.New("test-key", &openai.Options{BaseURL: srv.URL})
//			require.NoError(t, err)
//			return p
//		})
//	}
//
// The cases that succeed expect the texts, tool names and arguments given by
// the constants [TextReply], [ToolResultReply], [WeatherTool], [Lima],
// [Cusco] and [OrderID]. A failure names the case's subtest and quotes the
// clause of the llm contract that the adapter broke.
//
// # Concurrency
//
// A [Scripted] and an [Echo] are safe for concurrent use. Concurrent calls
// to [Scripted.Generate] take the steps of the script in the order they
// acquire its lock; a [Func] step runs outside the lock, so it may block
// until a test releases it. [Run] runs its cases one after the other.
//
// # Errors
//
// [Scripted.Generate] returns an error wrapping the context's error when the
// context is done, the Err of a [Fail] step as it is, and an [*llm.Error] of
// kind [llm.ErrInvalidRequest] when the script is exhausted without a
// default step, or when a Step sets none or several of its fields.
// [Echo.Generate] fails only when the context is done. [Run] reports through
// its *testing.T.
//
// # Privacy
//
// A Scripted keeps deep copies of the requests it records, customers'
// messages included, for as long as it lives. Requests are never logged.
package llmtest
