package privacy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/store"
)

func TestKeywordsMatchWholeCommandsOnly(t *testing.T) {
	kw, err := privacy.NewKeywords(nil)
	require.NoError(t, err)
	tests := []struct {
		text    string
		ok      bool
		purpose privacy.Purpose
		grant   bool
		lang    string
	}{
		{text: "STOP", ok: true, purpose: privacy.PurposeMarketing, lang: "en"},
		{text: "stop", ok: true, purpose: privacy.PurposeMarketing, lang: "en"},
		{text: " Stop! 🛑", ok: true, purpose: privacy.PurposeMarketing, lang: "en"},
		{text: "STOP STOP", ok: true, purpose: privacy.PurposeMarketing, lang: "en"},
		{text: "/stop", ok: true, purpose: privacy.PurposeMarketing, lang: "en"},
		{text: "BAJA por favor", ok: true, purpose: privacy.PurposeMarketing, lang: "es"},
		{text: "Por favor, dame de baja... no, DARME DE BAJA", ok: false},
		{text: "darme de baja", ok: true, purpose: privacy.PurposeMarketing, lang: "es"},
		{text: "CANCELAR", ok: true, purpose: privacy.PurposeMarketing, lang: "es"},
		{text: "cancelar suscripcion", ok: true, purpose: privacy.PurposeMarketing, lang: "es"},
		{text: "No más mensajes", ok: true, purpose: privacy.PurposeMarketing, lang: "es"},
		{text: "NO MAS MENSAJES GRACIAS", ok: true, purpose: privacy.PurposeMarketing, lang: "es"},
		{text: "Sair", ok: true, purpose: privacy.PurposeMarketing, lang: "pt"},
		{text: "não quero receber mais mensagens", ok: true, purpose: privacy.PurposeMarketing, lang: "pt"},
		{text: "parar", ok: true, purpose: privacy.PurposeMarketing, lang: "es"},
		{text: "START", ok: true, purpose: privacy.PurposeMarketing, grant: true, lang: "en"},
		{text: "alta", ok: true, purpose: privacy.PurposeMarketing, grant: true, lang: "es"},
		{text: "ACTIVAR", ok: true, purpose: privacy.PurposeAssistant, grant: true, lang: "es"},
		{text: "Ativar", ok: true, purpose: privacy.PurposeAssistant, grant: true, lang: "pt"},

		{text: "don't stop", ok: false},
		{text: "please don't stop sending me offers", ok: false},
		{text: "stop by the store tomorrow?", ok: false},
		{text: "cancelar mi pedido A-1001", ok: false},
		{text: "quiero cancelar", ok: false},
		{text: "no quiero darme de baja", ok: false},
		{text: "la baja de precios", ok: false},
		{text: "bajar", ok: false},
		{text: "stopping", ok: false},
		{text: "", ok: false},
		{text: "👍", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			k, ok := kw.Match(tt.text)
			require.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.ok && tt.purpose == privacy.PurposeMarketing && !tt.grant, privacy.OptOut(tt.text))
			if !ok {
				return
			}
			assert.Equal(t, tt.purpose, k.Purpose)
			assert.Equal(t, tt.grant, k.Grant)
			assert.Equal(t, tt.lang, k.Lang)
			assert.NotEmpty(t, k.Reply)
		})
	}
}

func TestKeywordsConfigured(t *testing.T) {
	kw, err := privacy.NewKeywords([]privacy.Keyword{
		{Text: "Desuscribir ofertas", Lang: "es", Purpose: privacy.PurposeMarketing},
		{Text: "DESUSCRIBIR OFERTAS", Lang: "en", Purpose: privacy.PurposeMarketing, Reply: "first one wins"},
		{Text: "no encuestas", Lang: "es", Purpose: "surveys", Reply: "No te enviaremos encuestas."},
	})
	require.NoError(t, err)
	k, ok := kw.Match("desuscribir ofertas")
	require.True(t, ok)
	assert.Equal(t, "es", k.Lang)
	k, ok = kw.Match("NO ENCUESTAS")
	require.True(t, ok)
	assert.Equal(t, privacy.Purpose("surveys"), k.Purpose)
	assert.Equal(t, "No te enviaremos encuestas.", k.Reply)
	_, ok = kw.Match("STOP")
	assert.False(t, ok, "a configured list replaces the defaults")

	for name, list := range map[string][]privacy.Keyword{
		"no words":             {{Text: "!!", Lang: "es", Purpose: privacy.PurposeMarketing}},
		"no purpose":           {{Text: "STOP", Lang: "en"}},
		"no reply for purpose": {{Text: "no encuestas", Lang: "es", Purpose: "surveys"}},
		"no reply for lang":    {{Text: "STOPP", Lang: "de", Purpose: privacy.PurposeMarketing}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := privacy.NewKeywords(list)
			assert.ErrorIs(t, err, store.ErrInvalid)
		})
	}
}

func TestDetectRequest(t *testing.T) {
	tests := []struct {
		text string
		want privacy.RequestType
		ok   bool
	}{
		{"delete my data", privacy.RequestErasure, true},
		{"Hola, quiero borrar mis datos por favor", privacy.RequestErasure, true},
		{"ELIMINAR MIS DATOS", privacy.RequestErasure, true},
		{"Eliminen mis datos de su sistema", privacy.RequestErasure, true},
		{"quero apagar meus dados", privacy.RequestErasure, true},
		{"Olvídenme", privacy.RequestErasure, true},
		{"export my data", privacy.RequestExport, true},
		{"quiero mis datos", privacy.RequestExport, true},
		{"me pueden enviar una copia de mis datos?", privacy.RequestExport, true},
		{"Qué datos tienen de mí?", privacy.RequestAccess, true},
		{"what do you know about me", privacy.RequestAccess, true},
		{"quiero rectificar mis datos", privacy.RequestRectification, true},
		{"stop using AI", privacy.RequestObjection, true},
		{"Please don't use AI with me", privacy.RequestObjection, true},
		{"no quiero IA", privacy.RequestObjection, true},
		{"parem de usar IA", privacy.RequestObjection, true},
		{"quiero limitar el uso de mis datos", privacy.RequestRestriction, true},
		{"retiro mi consentimiento", privacy.RequestConsentWithdrawal, true},

		{"no quiero borrar mis datos", "", false},
		{"don't delete my data", "", false},
		{"don't stop using AI, it's great", "", false},
		{"¿dónde está mi pedido?", "", false},
		{"borrar", "", false},
		{"mis datos de envío son Av. Larco 123", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got, ok := privacy.DetectRequest(tt.text)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}

	d, err := privacy.NewRequestDetector([]privacy.RequestPhrase{{Text: "Borrar todo", Type: privacy.RequestErasure, Lang: "es"}})
	require.NoError(t, err)
	in, ok := d.Detect("BORRAR TODO ya")
	require.True(t, ok)
	assert.Equal(t, privacy.RequestIntent{Type: privacy.RequestErasure, Lang: "es"}, in)
	_, err = privacy.NewRequestDetector([]privacy.RequestPhrase{{Text: "x", Type: "forget"}})
	assert.ErrorIs(t, err, store.ErrInvalid)
}
