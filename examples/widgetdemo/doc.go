// Command widgetdemo serves a page that embeds the wagent web widget, for
// trying it by hand in a browser. The assistant is an offline echo model,
// so it needs no API key and no network.
//
//	go run ./examples/widgetdemo
//
// then open http://127.0.0.1:8080 and click the chat button. Type "menu"
// to get quick-reply chips. Conversations live in memory until the
// program ends.
package main
