package main

import (
	"fmt"
	"strings"
)

// The demo shop: Tienda Sol, an alpaca-wool shop in Lima. Its catalog and
// FAQ are both the pages of the site and what the offline demo model
// answers from, so the two always agree.

// shopName is the business's name, shown on the site and in the widget.
const shopName = "Tienda Sol"

// lang is a language the demo answers in.
type lang int

const (
	english lang = iota
	spanish
)

// text is a text in each language of the demo.
type text struct{ EN, ES string }

func (t text) in(l lang) string {
	if l == spanish {
		return t.ES
	}
	return t.EN
}

// product is an item of the catalog.
type product struct {
	Slug    string // its page is /products/{Slug}
	Name    text
	PriceS  int // in soles
	Summary text
	Details text
	// Keywords find the product in a question, in either language,
	// folded (lower case, no accents).
	Keywords []string
}

// Price is the product's price as the site shows it.
func (p product) Price() string { return fmt.Sprintf("S/ %d", p.PriceS) }

// answer is what the offline model says about the product.
func (p product) answer(l lang) string {
	if l == spanish {
		return fmt.Sprintf("%s: %s cuesta %s. %s", p.Name.ES, strings.TrimSuffix(p.Summary.ES, "."), p.Price(), p.Details.ES)
	}
	return fmt.Sprintf("%s: %s, %s. %s", p.Name.EN, strings.TrimSuffix(p.Summary.EN, "."), p.Price(), p.Details.EN)
}

var catalog = []product{
	{
		Slug:     "poncho",
		Name:     text{"Alpaca poncho", "Poncho de alpaca"},
		PriceS:   320,
		Summary:  text{"Hand-woven in Cusco from 100% alpaca wool.", "Tejido a mano en Cusco, 100% lana de alpaca."},
		Details:  text{"One size, in natural grey, sand and terracotta.", "Talla única, en gris natural, arena y terracota."},
		Keywords: []string{"poncho"},
	},
	{
		Slug:     "scarf",
		Name:     text{"Baby alpaca scarf", "Chalina de alpaca bebé"},
		PriceS:   95,
		Summary:  text{"Soft baby alpaca, 180 x 30 cm.", "Alpaca bebé muy suave, 180 x 30 cm."},
		Details:  text{"Eight colours; a gift box is free.", "Ocho colores; la caja de regalo es gratis."},
		Keywords: []string{"scarf", "scarves", "chalina", "bufanda"},
	},
	{
		Slug:     "sweater",
		Name:     text{"Alpaca sweater", "Chompa de alpaca"},
		PriceS:   260,
		Summary:  text{"Classic crew neck, knitted in Arequipa.", "Cuello redondo clásico, tejida en Arequipa."},
		Details:  text{"Sizes S to XL; see the size guide in the FAQ.", "Tallas S a XL; la guía de tallas está en las preguntas frecuentes."},
		Keywords: []string{"sweater", "jumper", "pullover", "chompa", "sueter", "jersey"},
	},
}

// faqEntry is a question of the shop's FAQ.
type faqEntry struct {
	Question text
	Answer   text
	// Keywords are matched as word prefixes of the folded question.
	Keywords []string
}

var faq = []faqEntry{
	{
		Question: text{"Do you ship?", "¿Hacen envíos?"},
		Answer: text{
			"We ship across Peru in 2 to 5 working days; orders in Lima over S/ 150 ship free. We also ship to Chile, Colombia and Ecuador in 7 to 12 days.",
			"Enviamos a todo el Perú en 2 a 5 días hábiles; los pedidos en Lima de más de S/ 150 tienen envío gratis. También enviamos a Chile, Colombia y Ecuador en 7 a 12 días.",
		},
		Keywords: []string{"ship", "deliver", "delivery", "courier", "envio", "envia", "enviar", "envian", "despach", "llega", "demora"},
	},
	{
		Question: text{"Can I return an item?", "¿Puedo devolver un producto?"},
		Answer: text{
			"You can return any unworn item within 30 days for a full refund; we pay the return shipping within Peru.",
			"Puedes devolver cualquier prenda sin usar dentro de los 30 días y te reembolsamos todo; pagamos el envío de la devolución dentro del Perú.",
		},
		Keywords: []string{"return", "refund", "exchange", "devol", "reembols", "cambi"},
	},
	{
		Question: text{"When are you open?", "¿Cuál es su horario?"},
		Answer: text{
			"Our shop in Miraflores is open Monday to Saturday, 9:00 to 18:00 (Lima time); this chat answers at any hour.",
			"Nuestra tienda en Miraflores abre de lunes a sábado, de 9:00 a 18:00 (hora de Lima); este chat responde a cualquier hora.",
		},
		Keywords: []string{"hour", "open", "close", "closing", "horario", "abre", "abren", "cierra", "cierran", "atienden"},
	},
	{
		Question: text{"Where is my order?", "¿Dónde está mi pedido?"},
		Answer: text{
			"Tell me your order number, such as A-1001, and I will look it up.",
			"Dime tu número de pedido, por ejemplo A-1001, y lo busco.",
		},
		Keywords: []string{"order", "tracking", "parcel", "package", "pedido", "orden", "compra", "paquete", "seguimiento"},
	},
	{
		Question: text{"Where is the shop?", "¿Dónde están?"},
		Answer: text{
			"You find us at Av. Larco 345, Miraflores, Lima, two blocks from Parque Kennedy.",
			"Estamos en Av. Larco 345, Miraflores, Lima, a dos cuadras del Parque Kennedy.",
		},
		Keywords: []string{"address", "where", "located", "location", "direccion", "donde", "ubica", "local"},
	},
	{
		Question: text{"How can I pay?", "¿Cómo puedo pagar?"},
		Answer: text{
			"We accept Visa, Mastercard, Yape, Plin and bank transfer. Never send card numbers in this chat.",
			"Aceptamos Visa, Mastercard, Yape, Plin y transferencia bancaria. Nunca envíes números de tarjeta por este chat.",
		},
		Keywords: []string{"pay", "payment", "visa", "mastercard", "yape", "plin", "pago", "pagar", "tarjeta", "transferencia"},
	},
	{
		Question: text{"Which size should I take?", "¿Qué talla debo elegir?"},
		Answer: text{
			"Our sweaters run true to size: S fits chest 88-94 cm, M 94-100, L 100-106, XL 106-112. Ponchos and scarves are one size.",
			"Nuestras chompas tienen la talla exacta: S para pecho de 88-94 cm, M 94-100, L 100-106, XL 106-112. Ponchos y chalinas son talla única.",
		},
		Keywords: []string{"size", "fit", "talla", "medida"},
	},
	{
		Question: text{"How do I wash alpaca?", "¿Cómo lavo la alpaca?"},
		Answer: text{
			"Hand-wash in cold water with a mild soap, do not wring, and dry flat in the shade.",
			"Lávala a mano en agua fría con jabón suave, no la exprimas y sécala extendida a la sombra.",
		},
		Keywords: []string{"wash", "care", "clean", "lavar", "lavo", "lava", "cuidado", "limpi"},
	},
	{
		Question: text{"What do you do with my data?", "¿Qué hacen con mis datos?"},
		Answer: text{
			"We keep your messages to answer you and never sell them. Write \"delete my data\" at any time to have them erased, or \"STOP\" to stop marketing messages.",
			"Guardamos tus mensajes para responderte y nunca los vendemos. Escribe \"borrar mis datos\" cuando quieras para que los eliminemos, o \"BAJA\" para no recibir mensajes de marketing.",
		},
		Keywords: []string{"privacy", "data", "privacidad", "datos"},
	},
}
