package redact_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/privacy/redact"
)

// redactTests run with the default configuration. want is what the model
// sees; restored is the reply Restore makes of it (empty: the input back);
// stored is what Mask keeps (empty: the input).
var redactTests = []struct {
	name     string
	in       string
	want     string
	restored string
	stored   string
}{
	// Emails.
	{name: "email es", in: "mi correo es rosa.quispe@gmail.com", want: "mi correo es <EMAIL_1>"},
	{name: "email pt", in: "meu email é joao.silva@empresa.com.br, obrigado", want: "meu email é <EMAIL_1>, obrigado"},
	{name: "email en plus tag", in: "write to j_doe+orders@example.co.uk.", want: "write to <EMAIL_1>."},
	{name: "same email same placeholder", in: "a@shop.pe o a@shop.pe, no b@shop.pe", want: "<EMAIL_1> o <EMAIL_1>, no <EMAIL_2>"},

	// Phones.
	{name: "peru mobile compact", in: "mi cel 987654321", want: "mi cel <PHONE_1>"},
	{name: "peru mobile grouped", in: "llámame al 987 654 321 porfa", want: "llámame al <PHONE_1> porfa"},
	{name: "peru mobile dashes", in: "987-654-321", want: "<PHONE_1>"},
	{name: "peru international", in: "+51 987 654 321", want: "<PHONE_1>"},
	{name: "peru wa_id form", in: "mi número 51987654321", want: "mi número <PHONE_1>"},
	{name: "peru 00 prefix", in: "0051 987 654 321", want: "<PHONE_1>"},
	{name: "lima landline parens", in: "fijo (01) 456-7890", want: "fijo <PHONE_1>"},
	{name: "lima landline", in: "oficina 01 456 7890", want: "oficina <PHONE_1>"},
	{name: "landline after phone word", in: "teléfono: 4567890", want: "teléfono: <PHONE_1>"},
	{name: "brazil mobile", in: "meu celular (11) 91234-5678", want: "meu celular <PHONE_1>"},
	{name: "brazil international", in: "+55 11 91234-5678", want: "<PHONE_1>"},
	{name: "mexico", in: "mi número es 55 1234 5678", want: "mi número es <PHONE_1>"},
	{name: "colombia", in: "escríbeme al 300 123 4567", want: "escríbeme al <PHONE_1>"},
	{name: "chile international", in: "+56 9 1234 5678", want: "<PHONE_1>"},
	{name: "us", in: "call me at +1 (415) 555-2671", want: "call me at <PHONE_1>"},
	{name: "us national", in: "call 415-555-2671 today", want: "call <PHONE_1> today"},
	{name: "two numbers in a row", in: "DNI 45678912 987654321", want: "DNI <DNI_1> <PHONE_1>"},

	// Cards: only Luhn-valid numbers.
	{name: "visa grouped", in: "tarjeta 4242 4242 4242 4242 vence 12/27", want: "tarjeta <CARD_1> vence 12/27",
		restored: "tarjeta •••• 4242 vence 12/27", stored: "tarjeta •••• 4242 vence 12/27"},
	{name: "visa dashes", in: "4111-1111-1111-1111", want: "<CARD_1>", restored: "•••• 1111", stored: "•••• 1111"},
	{name: "mastercard compact", in: "5555555555554444", want: "<CARD_1>", restored: "•••• 4444", stored: "•••• 4444"},
	{name: "amex grouped", in: "amex 3782 822463 10005", want: "amex <CARD_1>", restored: "amex •••• 0005", stored: "amex •••• 0005"},
	{name: "diners 14 digits", in: "30569309025904", want: "<CARD_1>", restored: "•••• 5904", stored: "•••• 5904"},
	{name: "card luhn invalid", in: "tarjeta 4242 4242 4242 4241", want: "tarjeta 4242 4242 4242 4241"},
	{name: "card typed twice", in: "4242424242424242 o sea 4242424242424242", want: "<CARD_1> o sea <CARD_1>",
		restored: "•••• 4242 o sea •••• 4242", stored: "•••• 4242 o sea •••• 4242"},

	// IBANs: only mod-97-valid numbers of the country's length.
	{name: "iban de grouped", in: "IBAN DE89 3704 0044 0532 0130 00 gracias", want: "IBAN <IBAN_1> gracias"},
	{name: "iban gb letters", in: "GB82 WEST 1234 5698 7654 32", want: "<IBAN_1>"},
	{name: "iban es", in: "cuenta ES91 2100 0418 4502 0005 1332.", want: "cuenta <IBAN_1>."},
	{name: "iban pt", in: "PT50 0002 0123 1234 5678 9015 4", want: "<IBAN_1>"},
	{name: "iban br compact", in: "BR1800360305000010009795493C1", want: "<IBAN_1>"},
	{name: "iban followed by word", in: "ES91 2100 0418 4502 0005 1332 OK", want: "<IBAN_1> OK"},
	{name: "iban bad checksum", in: "DE89 3704 0044 0532 0130 01", want: "DE89 3704 0044 0532 0130 01"},

	// Peruvian identifiers.
	{name: "dni", in: "mi DNI es 45678912", want: "mi DNI es <DNI_1>"},
	{name: "dni colon", in: "D.N.I.: 70123456", want: "D.N.I.: <DNI_1>"},
	{name: "dni documento", in: "documento de identidad 45678912", want: "documento de identidad <DNI_1>"},
	{name: "dni check digit", in: "DNI 45678912-3", want: "DNI <DNI_1>"},
	{name: "eight digits without context", in: "llegaron 45678912 visitas", want: "llegaron 45678912 visitas"},
	{name: "ruc company", in: "factura a RUC 20609753120", want: "factura a RUC <RUC_1>"},
	{name: "ruc person", in: "ruc 10456789124", want: "ruc <RUC_1>"},
	{name: "ruc other", in: "15701234569 y 17203040504", want: "<RUC_1> y <RUC_2>"},
	{name: "ruc bad check digit", in: "RUC 20609753121", want: "RUC 20609753121"},
	{name: "ruc bad prefix", in: "30609753120", want: "30609753120"},

	// Passwords: masked, never restored.
	{name: "contraseña es", in: "mi contraseña es Hola1234!", want: "mi contraseña es <PASSWORD_1>!",
		restored: "mi contraseña es ••••••••!", stored: "mi contraseña es ••••••••!"},
	{name: "password colon", in: "password: hunter22", want: "password: <PASSWORD_1>",
		restored: "password: ••••••••", stored: "password: ••••••••"},
	{name: "clave colon", in: "Clave: 8823aa", want: "Clave: <PASSWORD_1>", restored: "Clave: ••••••••", stored: "Clave: ••••••••"},
	{name: "senha é", in: "a senha é Mudar@123", want: "a senha é <PASSWORD_1>", restored: "a senha é ••••••••", stored: "a senha é ••••••••"},
	{name: "password words between", in: "my wifi password is Tr0ub4dor&3.", want: "my wifi password is <PASSWORD_1>.",
		restored: "my wifi password is ••••••••.", stored: "my wifi password is ••••••••."},
	{name: "password quoted", in: `la clave es "mi perro 12"`, want: `la clave es "<PASSWORD_1>"`,
		restored: `la clave es "••••••••"`, stored: `la clave es "••••••••"`},
	{name: "pwd equals", in: "pwd=abc12345", want: "pwd=<PASSWORD_1>", restored: "pwd=••••••••", stored: "pwd=••••••••"},
	{name: "password repeated later", in: "clave: gato2024, repito gato2024", want: "clave: <PASSWORD_1>, repito <PASSWORD_1>",
		restored: "clave: ••••••••, repito ••••••••", stored: "clave: ••••••••, repito ••••••••"},
	{name: "pin", in: "mi pin es 4821", want: "mi pin es <PASSWORD_1>", restored: "mi pin es ••••••••", stored: "mi pin es ••••••••"},

	// Secrets: masked with their prefix, never restored.
	{name: "openai key", in: "my key sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z", want: "my key <SECRET_1>",
		restored: "my key sk-proj-••••", stored: "my key sk-proj-••••"},
	{name: "stripe live key", in: "sk_live_51HqLyjWDarjtT1zdp7dcXYZ", want: "<SECRET_1>", restored: "sk_live_••••", stored: "sk_live_••••"},
	{name: "aws access key", in: "AKIAIOSFODNN7EXAMPLE", want: "<SECRET_1>", restored: "AKIA••••", stored: "AKIA••••"},
	{name: "github token", in: "token ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", want: "token <SECRET_1>",
		restored: "token ghp_••••", stored: "token ghp_••••"},
	{name: "slack token", in: "xoxb-123456789012-abcdefABCDEF", want: "<SECRET_1>", restored: "xoxb-••••", stored: "xoxb-••••"},
	{name: "google api key", in: "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", want: "<SECRET_1>", restored: "AIza••••", stored: "AIza••••"},
	{name: "jwt", in: "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
		want: "Bearer <SECRET_1>", restored: "Bearer eyJ••••", stored: "Bearer eyJ••••"},
	{name: "token after key word", in: "api key: 9fK2xQ7vL0pZ3mN8sR4t", want: "api key: <SECRET_1>",
		restored: "api key: ••••••••", stored: "api key: ••••••••"},
	{name: "private key", in: "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----\nok",
		want: "<SECRET_1>\nok", restored: "••••••••\nok", stored: "••••••••\nok"},
	{name: "prefix inside a word", in: "task-force-abcdefghijklmnopqrstu", want: "task-force-abcdefghijklmnopqrstu"},

	// Mixed, three languages.
	{name: "mixed es", in: "Hola, soy Rosa, DNI 45678912, correo rosa@shop.pe, cel +51 987 654 321 y pago con 4242 4242 4242 4242",
		want:     "Hola, soy Rosa, DNI <DNI_1>, correo <EMAIL_1>, cel <PHONE_1> y pago con <CARD_1>",
		restored: "Hola, soy Rosa, DNI 45678912, correo rosa@shop.pe, cel +51 987 654 321 y pago con •••• 4242",
		stored:   "Hola, soy Rosa, DNI 45678912, correo rosa@shop.pe, cel +51 987 654 321 y pago con •••• 4242"},

	// Nothing to redact.
	{name: "order number", in: "Pedido A-1001 por S/ 149.90", want: "Pedido A-1001 por S/ 149.90"},
	{name: "order number digits", in: "Mi pedido 987654321 no llegó", want: "Mi pedido 987654321 no llegó"},
	{name: "order hash", in: "orden #987654321", want: "orden #987654321"},
	{name: "order number english", in: "order no. 987654321 shipped", want: "order no. 987654321 shipped"},
	{name: "date and time", in: "Te esperamos el 12/03/2025 a las 10:30", want: "Te esperamos el 12/03/2025 a las 10:30"},
	{name: "iso date", in: "entrega 2025-03-12 entre 9 y 18 h", want: "entrega 2025-03-12 entre 9 y 18 h"},
	{name: "dotted date", in: "vence 12.03.2025", want: "vence 12.03.2025"},
	{name: "years", in: "clientes desde 2019, 2020 y 2024", want: "clientes desde 2019, 2020 y 2024"},
	{name: "quantities", in: "quiero 3 unidades de 250 ml y 12 cajas", want: "quiero 3 unidades de 250 ml y 12 cajas"},
	{name: "prices", in: "total S/ 1,299.90, antes S/ 1.499,00, envío US$ 12.50", want: "total S/ 1,299.90, antes S/ 1.499,00, envío US$ 12.50"},
	{name: "big price", in: "casa a S/ 987.654.321", want: "casa a S/ 987.654.321"},
	{name: "brazil price", in: "Total: R$ 1.299,90", want: "Total: R$ 1.299,90"},
	{name: "two order numbers", in: "tengo 2 pedidos: 123456 y 654321", want: "tengo 2 pedidos: 123456 y 654321"},
	{name: "tracking", in: "código de seguimiento 1Z999AA10123456784", want: "código de seguimiento 1Z999AA10123456784"},
	{name: "invoice id", in: "Invoice INV-2024-0001", want: "Invoice INV-2024-0001"},
	{name: "list of numbers", in: "tallas 10 20 30 40 50", want: "tallas 10 20 30 40 50"},
	{name: "version", in: "versión 1.2.3", want: "versión 1.2.3"},
	{name: "password talk es", in: "olvidé mi contraseña y la clave es incorrecta", want: "olvidé mi contraseña y la clave es incorrecta"},
	{name: "password talk en", in: "my password is too short", want: "my password is too short"},
	{name: "clave figurative", in: "la clave es la paciencia", want: "la clave es la paciencia"},
	{name: "token talk", in: "el token es válido hasta mañana", want: "el token es válido hasta mañana"},
	{name: "placeholder typed by user", in: "<EMAIL_1> no es mi correo", want: "<EMAIL_1> no es mi correo"},
	{name: "empty", in: "", want: ""},
}

func TestRedact(t *testing.T) {
	r, err := redact.New(redact.Config{})
	require.NoError(t, err)
	for _, tt := range redactTests {
		t.Run(tt.name, func(t *testing.T) {
			s := r.Session("shop")
			got := s.Redact(tt.in)
			assert.Equal(t, tt.want, got, "what the model sees")
			restored, stored := tt.restored, tt.stored
			if restored == "" {
				restored = tt.in
			}
			if stored == "" {
				stored = tt.in
			}
			assert.Equal(t, restored, s.Restore(got), "the reply restored")
			assert.Equal(t, stored, r.Mask("shop", tt.in), "what is stored")
		})
	}
}

func TestSessionKeepsPlaceholdersAcrossMessages(t *testing.T) {
	r, err := redact.New(redact.Config{})
	require.NoError(t, err)
	s := r.Session("shop")
	assert.Equal(t, "soy <EMAIL_1>", s.Redact("soy rosa@shop.pe"))
	assert.Equal(t, "tarjeta <CARD_1>", s.Redact("tarjeta 4242424242424242"))
	assert.Equal(t, "<EMAIL_1> y <EMAIL_2>", s.Redact("rosa@shop.pe y ana@shop.pe"))
	assert.Equal(t, "<CARD_1>", s.Redact("4242424242424242"))
	assert.Equal(t, 3, s.Len())
	reply := "Listo <EMAIL_1>, cobramos <CARD_1>; copia a <EMAIL_2>. <PHONE_9> queda igual."
	assert.Equal(t, "Listo rosa@shop.pe, cobramos •••• 4242; copia a ana@shop.pe. <PHONE_9> queda igual.", s.Restore(reply))
}

func TestPlaceholderTypedByUserIsNotReused(t *testing.T) {
	r, err := redact.New(redact.Config{})
	require.NoError(t, err)
	s := r.Session("shop")
	in := "<EMAIL_1> es falso, el mío es rosa@shop.pe"
	got := s.Redact(in)
	assert.Equal(t, "<EMAIL_1> es falso, el mío es <EMAIL_2>", got)
	assert.Equal(t, in, s.Restore(got))
}

func TestRestorableContainingPasswordIsRestoredWithoutIt(t *testing.T) {
	r, err := redact.New(redact.Config{})
	require.NoError(t, err)
	s := r.Session("shop")
	got := s.Redact("clave: rosa2024, correo rosa2024@shop.pe")
	assert.Equal(t, "clave: <PASSWORD_1>, correo <EMAIL_1>", got)
	assert.Equal(t, "clave: ••••••••, correo ••••@shop.pe", s.Restore(got))
	assert.Equal(t, "clave: ••••••••, correo ••••@shop.pe", r.Mask("shop", "clave: rosa2024, correo rosa2024@shop.pe"))
}

func TestConfigPerTenant(t *testing.T) {
	r, err := redact.New(redact.Config{
		Modes: map[redact.Kind]redact.Mode{redact.Phone: redact.Off},
		Tenants: map[channel.TenantID]map[redact.Kind]redact.Mode{
			"bank":  {redact.IBAN: redact.Mask, redact.Email: redact.Mask},
			"store": {redact.Phone: redact.Restore},
		},
	})
	require.NoError(t, err)
	in := "rosa@shop.pe, 987654321, DE89 3704 0044 0532 0130 00"
	tests := []struct {
		tenant   channel.TenantID
		want     string
		restored string
		stored   string
	}{
		{"default", "<EMAIL_1>, 987654321, <IBAN_1>", in, in},
		{"bank", "<EMAIL_1>, 987654321, <IBAN_1>", "r••••@shop.pe, 987654321, DE•• •••• 3000", "r••••@shop.pe, 987654321, DE•• •••• 3000"},
		{"store", "<EMAIL_1>, <PHONE_1>, <IBAN_1>", in, in},
	}
	for _, tt := range tests {
		t.Run(string(tt.tenant), func(t *testing.T) {
			s := r.Session(tt.tenant)
			got := s.Redact(in)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.restored, s.Restore(got))
			assert.Equal(t, tt.stored, r.Mask(tt.tenant, in))
		})
	}
	assert.Equal(t, redact.Mask, r.Mode("bank", redact.IBAN))
	assert.Equal(t, redact.Off, r.Mode("default", redact.Phone))
	assert.Equal(t, redact.Off, r.Mode("default", "NAME"))
}

func TestConfigRejects(t *testing.T) {
	tests := []struct {
		name string
		cfg  redact.Config
		err  string
	}{
		{"restoring cards", redact.Config{Modes: map[redact.Kind]redact.Mode{redact.Card: redact.Restore}}, "CARD is never restored"},
		{"restoring passwords for a tenant", redact.Config{Tenants: map[channel.TenantID]map[redact.Kind]redact.Mode{"t": {redact.Password: redact.Restore}}}, `tenant "t": privacy: redact: PASSWORD is never restored`},
		{"restoring secrets", redact.Config{Modes: map[redact.Kind]redact.Mode{redact.Secret: redact.Restore}}, "SECRET is never restored"},
		{"unknown kind", redact.Config{Modes: map[redact.Kind]redact.Mode{"NAME": redact.Mask}}, `unknown kind "NAME"`},
		{"unknown mode", redact.Config{Modes: map[redact.Kind]redact.Mode{redact.Email: 7}}, "unknown mode 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := redact.New(tt.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.err)
			assert.True(t, strings.HasPrefix(err.Error(), "privacy: "), err.Error())
		})
	}
}

func TestFindReportsKindsAndOffsets(t *testing.T) {
	r, err := redact.New(redact.Config{})
	require.NoError(t, err)
	text := "clave: gato2024 y correo a@b.pe"
	got := r.Find("t", text)
	require.Len(t, got, 2)
	assert.Equal(t, redact.Password, got[0].Kind)
	assert.Equal(t, "gato2024", text[got[0].Start:got[0].End])
	assert.Equal(t, redact.Email, got[1].Kind)
	assert.Equal(t, "a@b.pe", text[got[1].Start:got[1].End])
	assert.Equal(t, []redact.Kind{redact.Secret, redact.Password, redact.Card, redact.IBAN, redact.Email, redact.RUC, redact.DNI, redact.Phone}, redact.Kinds())
	assert.Equal(t, "mask", redact.Mask.String())
}

func TestSessionConcurrentUse(t *testing.T) {
	r, err := redact.New(redact.Config{})
	require.NoError(t, err)
	s := r.Session("t")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				got := s.Redact("rosa@shop.pe 4242424242424242")
				assert.Equal(t, "<EMAIL_1> <CARD_1>", got)
				assert.Equal(t, "rosa@shop.pe •••• 4242", s.Restore(got))
			}
		}()
	}
	wg.Wait()
}
