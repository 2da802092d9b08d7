package memory

import (
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/store"
)

// cloneMessagesInPlace gives each of ms, shallow copies of records, its own
// memory, like store.Message.Clone but in fewer allocations: the inbound
// messages, outbound messages and parts of all the records are copied into
// one array each. The records then share these arrays with each other but
// not with the store; a record's Parts have their capacity cut to their
// length, so that appending to them never writes over another record's.
func cloneMessagesInPlace(ms []store.Message) {
	var nIn, nOut, nParts int
	for i := range ms {
		if ms[i].Inbound != nil {
			nIn++
		}
		if ms[i].Outbound != nil {
			nOut++
		}
		nParts += len(ms[i].Parts)
	}
	var (
		ins   []channel.Message
		outs  []channel.Outbound
		parts []llm.Part
	)
	if nIn > 0 {
		ins = make([]channel.Message, nIn)
	}
	if nOut > 0 {
		outs = make([]channel.Outbound, nOut)
	}
	if nParts > 0 {
		parts = make([]llm.Part, nParts)
	}
	for i := range ms {
		m := &ms[i]
		if m.Inbound != nil {
			ins[0] = m.Inbound.Clone()
			m.Inbound, ins = &ins[0], ins[1:]
		}
		if len(m.Parts) > 0 {
			n := len(m.Parts)
			p := parts[:n:n]
			parts = parts[n:]
			for j, part := range m.Parts {
				p[j] = part.Clone()
			}
			m.Parts = p
		} else if m.Parts != nil {
			m.Parts = []llm.Part{}
		}
		if m.Outbound != nil {
			outs[0] = m.Outbound.Clone()
			m.Outbound, outs = &outs[0], outs[1:]
		}
	}
}
