package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"text/tabwriter"

	"github.com/wagent/wagent/whatsapp"
)

const templatesUsage = `usage: whatsapp templates list
       whatsapp templates create FILE.json
       whatsapp templates delete NAME

Manages the message templates of the WhatsApp Business Account
WHATSAPP_BUSINESS_ACCOUNT_ID with WHATSAPP_ACCESS_TOKEN (and
WHATSAPP_APP_SECRET for appsecret_proof, WHATSAPP_API_URL for another
Graph API address). FILE.json is the template as the Business Management
API takes it: {"name", "language", "category", "parameter_format",
"components": [...]}; it is checked against WhatsApp's limits first.`

// templates runs the templates subcommand with args (after "templates")
// and returns the exit code.
func templates(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	usage := func() int {
		fmt.Fprintln(stderr, templatesUsage)
		return exitConfig
	}
	if len(args) == 0 {
		return usage()
	}
	token, account := getenv("WHATSAPP_ACCESS_TOKEN"), getenv("WHATSAPP_BUSINESS_ACCOUNT_ID")
	var missing []string
	if token == "" {
		missing = append(missing, "WHATSAPP_ACCESS_TOKEN")
	}
	if account == "" {
		missing = append(missing, "WHATSAPP_BUSINESS_ACCOUNT_ID")
	}
	if len(missing) > 0 {
		fmt.Fprintf(stderr, "whatsapp: missing required environment variable %v\n", missing)
		return exitConfig
	}
	wa, err := whatsapp.New(whatsapp.StaticToken(token), &whatsapp.Options{
		BaseURL:   cmp.Or(getenv("WHATSAPP_API_URL"), whatsapp.DefaultBaseURL),
		AppSecret: getenv("WHATSAPP_APP_SECRET"),
		Logger:    slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		fmt.Fprintln(stderr, "whatsapp:", err)
		return exitConfig
	}
	acct := whatsapp.Account{ID: account, Credentials: whatsapp.StaticToken(token)}
	switch {
	case args[0] == "list" && len(args) == 1:
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tLANGUAGE\tCATEGORY\tSTATUS\tID")
		n := 0
		for t, err := range wa.Templates(ctx, acct, &whatsapp.TemplateQuery{Page: whatsapp.Page{Limit: 100}}) {
			if err != nil {
				tw.Flush()
				fmt.Fprintln(stderr, "whatsapp: listing templates:", err)
				return exitFailed
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Name, t.Language, t.Category, t.Status, t.ID)
			n++
		}
		tw.Flush()
		fmt.Fprintf(stdout, "%d templates\n", n)
	case args[0] == "create" && len(args) == 2:
		data, err := os.ReadFile(args[1])
		if err != nil {
			fmt.Fprintln(stderr, "whatsapp:", err)
			return exitConfig
		}
		var spec whatsapp.TemplateSpec
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&spec); err != nil {
			fmt.Fprintf(stderr, "whatsapp: %s is not a template: %v\n", args[1], err)
			return exitConfig
		}
		if err := spec.Validate(); err != nil {
			fmt.Fprintln(stderr, err)
			return exitConfig
		}
		created, err := wa.CreateTemplate(ctx, acct, spec)
		if err != nil {
			fmt.Fprintln(stderr, "whatsapp: creating the template:", err)
			return exitFailed
		}
		fmt.Fprintf(stdout, "created %s %s: id %s, %s\n", spec.Name, spec.Language, created.ID, created.Status)
	case args[0] == "delete" && len(args) == 2:
		if err := wa.DeleteTemplate(ctx, acct, args[1], ""); err != nil {
			fmt.Fprintln(stderr, "whatsapp: deleting the template:", err)
			return exitFailed
		}
		fmt.Fprintf(stdout, "deleted %s\n", args[1])
	default:
		return usage()
	}
	return exitOK
}
