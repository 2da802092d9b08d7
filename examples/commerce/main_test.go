package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel/instagram/instagramtest"
	"github.com/wagent/wagent/commerce"
	"github.com/wagent/wagent/whatsapp/whatsapptest"
)

const (
	adminToken = "commerce-admin-token-0123"
	waPhone    = "106540352242922"
	igAccount  = "17841400000000001"
)

// running is the example serving in-process with fake Graph APIs.
type running struct {
	url  string
	shop *commerce.Memory
	wa   *whatsapptest.Server
	ig   *instagramtest.Server
}

func start(t *testing.T) *running {
	t.Helper()
	wa := whatsapptest.NewServer("wa-token", "wa-secret")
	t.Cleanup(wa.Close)
	ig := instagramtest.NewServer("ig-token", "")
	t.Cleanup(ig.Close)
	vars := map[string]string{
		"ADDR": "127.0.0.1:0", "STORE": "sqlite:" + t.TempDir() + "/commerce.db", "LLM": "echo",
		"DATA_DIR": t.TempDir(), "ADMIN_TOKEN": adminToken,
		"WHATSAPP_ACCESS_TOKEN": "wa-token", "WHATSAPP_APP_SECRET": "wa-secret", "WHATSAPP_VERIFY_TOKEN": "wa-verify",
		"WHATSAPP_PHONE_NUMBER_ID": waPhone, "WHATSAPP_API_URL": wa.URL,
		"INSTAGRAM_ACCESS_TOKEN": "ig-token", "INSTAGRAM_APP_SECRET": "ig-secret", "INSTAGRAM_VERIFY_TOKEN": "ig-verify",
		"INSTAGRAM_ACCOUNT_ID": igAccount, "INSTAGRAM_API_URL": ig.URL,
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *app, 1)
	done := make(chan int, 1)
	var out, errs syncBuffer
	go func() {
		done <- serve(ctx, func(k string) string { return vars[k] }, &out, &errs, func(a *app) { ready <- a })
	}()
	var a *app
	select {
	case a = <-ready:
	case code := <-done:
		t.Fatalf("exited %d: %s", code, errs.String())
	}
	t.Cleanup(func() {
		cancel()
		require.Equal(t, exitOK, <-done, errs.String())
	})
	line := strings.SplitN(out.String(), "\n", 2)[0]
	require.Contains(t, line, "channels: widget, whatsapp, instagram")
	i := strings.Index(line, "http://")
	require.GreaterOrEqual(t, i, 0, line)
	url := strings.Fields(line[i:])[0]
	return &running{url: url, shop: a.shop, wa: wa, ig: ig}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func deliver(t *testing.T, req *http.Request) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestWhatsAppMessageIsAnswered(t *testing.T) {
	r := start(t)
	deliver(t, whatsapptest.NewDelivery(r.url+"/webhooks/whatsapp",
		whatsapptest.TextDelivery(waPhone, "51987654321", "", "wamid.1", "hola tienda", time.Now()), "wa-secret"))
	sent, err := r.wa.Wait(waitCtx(t), "send", 1)
	require.NoError(t, err)
	require.Contains(t, string(sent[0].Body), "hola tienda")
	require.Contains(t, string(sent[0].Body), "51987654321")
}

func TestInstagramMessageIsAnswered(t *testing.T) {
	r := start(t)
	deliver(t, instagramtest.NewDelivery(r.url+"/webhooks/instagram",
		instagramtest.TextDelivery(igAccount, "1234567890123456", "mid.1", "hello shop", time.Now()), "ig-secret"))
	sent, err := r.ig.Wait(waitCtx(t), "send", 1)
	require.NoError(t, err)
	require.Contains(t, string(sent[0].Body), "hello shop")
	require.Contains(t, string(sent[0].Body), "1234567890123456")
}

// orderDelivery is a WhatsApp cart: quantity of product at its price.
func orderDelivery(t *testing.T, id, product string, quantity int) []byte {
	var env map[string]any
	require.NoError(t, json.Unmarshal(whatsapptest.TextDelivery(waPhone, "51911122233", "", id, "x", time.Now()), &env))
	value := env["entry"].([]any)[0].(map[string]any)["changes"].([]any)[0].(map[string]any)["value"].(map[string]any)
	msg := value["messages"].([]any)[0].(map[string]any)
	delete(msg, "text")
	msg["type"] = "order"
	msg["order"] = map[string]any{"catalog_id": "cat1", "text": "please gift-wrap",
		"product_items": []any{map[string]any{"product_retailer_id": product, "quantity": quantity, "item_price": 99.0, "currency": "PEN"}}}
	b, err := json.Marshal(env)
	require.NoError(t, err)
	return b
}

func TestWhatsAppCartBecomesOrder(t *testing.T) {
	r := start(t)
	deliver(t, whatsapptest.NewDelivery(r.url+"/webhooks/whatsapp", orderDelivery(t, "wamid.order1", "scarf-alpaca", 2), "wa-secret"))
	_, err := r.wa.Wait(waitCtx(t), "send", 1) // the reply comes after the order is placed
	require.NoError(t, err)
	o, err := r.shop.Order(t.Context(), waPhone, "1001")
	require.NoError(t, err)
	require.Equal(t, commerce.Money{Amount: 19800, Currency: "PEN"}, o.Total)
	require.Len(t, o.Items, 1)
	require.Equal(t, 2, o.Items[0].Quantity)
	require.Equal(t, "please gift-wrap", o.Note)
	p, err := r.shop.Product(t.Context(), waPhone, "scarf-alpaca")
	require.NoError(t, err)
	require.Equal(t, 28, p.Stock)
}

func TestWidgetMessageIsAnswered(t *testing.T) {
	r := start(t)
	origin := r.url
	ctx := waitCtx(t)
	call := func(method, path, token string, body any) *http.Response {
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(ctx, method, r.url+"/chat/"+path+"?site=tienda-sol", rd)
		require.NoError(t, err)
		req.Header.Set("Origin", origin)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		return resp
	}
	resp := call(http.MethodPost, "session", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var s struct{ Token string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&s))
	resp.Body.Close()
	events := call(http.MethodGet, "events", s.Token, nil)
	defer events.Body.Close()
	require.Equal(t, http.StatusOK, events.StatusCode)
	resp = call(http.MethodPost, "messages", s.Token, map[string]string{"id": "000000000000000a1234567890abcdef", "text": "do you ship to Cusco?"})
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	sc := bufio.NewScanner(events.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "data: ") && strings.Contains(line, `"role":"assistant"`) {
			require.Contains(t, line, "do you ship to Cusco?")
			return
		}
	}
	t.Fatal("the event stream ended without an answer")
}

func TestServesPagesAndHealth(t *testing.T) {
	r := start(t)
	for path, want := range map[string]string{"/healthz": "ok", "/": "/chat/widget.js", "/console/": "unauthorized"} {
		resp, err := http.Get(r.url + path)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Contains(t, strings.ToLower(string(b)), want, path)
	}
	resp, err := http.Get(r.url + "/admin/privacy/requests?tenant=tienda-sol")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestPartlyConfiguredChannelExits2(t *testing.T) {
	for name, vars := range map[string]map[string]string{
		"WHATSAPP_APP_SECRET":  {"WHATSAPP_ACCESS_TOKEN": "t", "WHATSAPP_VERIFY_TOKEN": "v", "WHATSAPP_PHONE_NUMBER_ID": "1"},
		"INSTAGRAM_ACCOUNT_ID": {"INSTAGRAM_ACCESS_TOKEN": "t", "INSTAGRAM_APP_SECRET": "s", "INSTAGRAM_VERIFY_TOKEN": "v"},
		"STORE":                {"STORE": "nonsense:x"},
		"PUBLIC_URL":           {"STORE": "memory", "PUBLIC_URL": "shop.example"},
		"WIDGET_SECRET":        {"STORE": "memory", "WIDGET_SECRET": "too-short"},
	} {
		var out, errs bytes.Buffer
		vars["ADDR"] = "127.0.0.1:0"
		code := run(t.Context(), func(k string) string { return vars[k] }, &out, &errs)
		require.Equal(t, exitConfig, code, name)
		require.Equal(t, 1, strings.Count(errs.String(), "\n"), errs.String())
		require.Contains(t, errs.String(), name)
	}
}

// TestConsoleSignIn signs in to the console with the admin token through
// its login form, as an operator would.
func TestConsoleSignIn(t *testing.T) {
	r := start(t)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := &http.Client{Jar: jar}
	get := func() (int, string) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, r.url+"/console/", nil)
		require.NoError(t, err)
		req.Header.Set("Accept", "text/html")
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := get()
	require.Equal(t, http.StatusUnauthorized, status)
	require.Contains(t, body, `name="token"`)

	resp, err := client.PostForm(r.url+"/console/?login", url.Values{"token": {"not-the-token"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a wrong token does not sign in")

	resp, err = client.PostForm(r.url+"/console/?login", url.Values{"token": {adminToken}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "signed in, redirected to the console")
	status, body = get()
	require.Equal(t, http.StatusOK, status)
	require.NotContains(t, body, `name="token"`, "the console itself, not the form")
}
