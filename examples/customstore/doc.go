// Command customstore shows a third-party store adapter: Journal, a
// store.ConversationStore kept in a JSON-lines file, written in about 160
// lines of code by letting the reference memory store do the work and
// logging each change before applying it. Its test runs the conformance
// suite, storetest.Run, unchanged.
//
//	go run ./examples/customstore [-file path]
//
// It wires the journal into an agent with the echo model, sends one message
// through it, then reopens the file to show that the conversation
// survived.
//
// Writing your own store takes three steps: implement
// store.ConversationStore (each method's documentation is the contract),
// add the guard var _ store.ConversationStore = (*Journal)(nil), and run
// storetest.Run from a test; a failure quotes the clause that was broken.
package main
