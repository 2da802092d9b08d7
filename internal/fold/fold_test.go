package fold

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFold(t *testing.T) {
	assert.Equal(t, "contrasena", String("Contraseña"))
	assert.Equal(t, "nao sei", String("NÃO SEI"))
	assert.Equal(t, []string{"stop"}, Words("¡STOP!"))
	assert.Equal(t, "quiero hablar con una persona", Phrase("¿Quiero hablar, con UNA persona?"))
}

func TestContains(t *testing.T) {
	tests := []struct {
		text, phrase string
		want         bool
	}{
		{"¿Puedo HABLAR con una persona?", "hablar con una persona", true},
		{"Quero falar com atendente humano", "atendente humano", true},
		{"stopwatch broken", "stop", false},
		{"I want to talk to a human please", "talk to a human", true},
		{"humanity", "human", false},
		{"anything", "", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Contains(tt.text, tt.phrase), "%q in %q", tt.phrase, tt.text)
	}
}
