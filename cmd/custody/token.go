package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/custodyhq/custody/internal/auth"
)

func newToken() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Create API tokens"}
	var name, role string
	create := &cobra.Command{
		Use:   "new",
		Short: "Create a bearer token and print the configuration entry for it",
		Long: `Prints a new token once (give it to the caller; it is not stored anywhere)
and the auth.tokens entry to add to the configuration, which holds only its
SHA-256 hash. Roles: publisher (ingest only), analyst (read), admin (all).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t := auth.Token{Name: name, Role: auth.Role(role)}
			secret, err := auth.NewSecret()
			if err != nil {
				return err
			}
			t.SHA256 = auth.Hash(secret)
			if err := t.Validate(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "token (shown once; send as Authorization: Bearer <token>):\n")
			fmt.Fprintln(cmd.OutOrStdout(), secret)
			fmt.Fprintf(cmd.ErrOrStderr(), "\nadd to the configuration:\nauth:\n  tokens:\n    - {name: %s, role: %s, sha256: %s}\n", t.Name, t.Role, t.SHA256)
			return nil
		},
	}
	create.Flags().StringVar(&name, "name", "", "who holds the token, e.g. checkout-service (required)")
	create.Flags().StringVar(&role, "role", "publisher", "publisher, analyst or admin")
	_ = create.MarkFlagRequired("name")
	cmd.AddCommand(create)
	return cmd
}
