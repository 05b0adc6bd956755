package discord

import (
	"errors"
	"fmt"
)

// What a Discord target does when alerts resolve (on_resolve).
const (
	// ResolveEdit turns the message of the firing alerts green in place.
	ResolveEdit = "edit"
	// ResolveEditAndPost edits it and posts the resolution too.
	ResolveEditAndPost = "edit_and_post"
	// ResolvePost only posts the resolution.
	ResolvePost = "post"
)

// Config is a Discord target's own keys, inline in the relay's target.
type Config struct {
	// MentionRole is the ID of a role pinged by messages that carry a
	// firing critical alert; empty pings nobody.
	MentionRole string `yaml:"mention_role,omitempty"`
	// OnResolve is ResolveEdit (the default), ResolveEditAndPost or
	// ResolvePost.
	OnResolve string `yaml:"on_resolve,omitempty"`
}

// SetKeys are the keys of c that are set, for the relay to refuse them on
// another channel's target.
func (c *Config) SetKeys() []string {
	var keys []string
	if c.MentionRole != "" {
		keys = append(keys, "mention_role")
	}
	if c.OnResolve != "" {
		keys = append(keys, "on_resolve")
	}
	return keys
}

// Validate fills in OnResolve's default and checks the keys; remote is
// false for a file target writing Discord's payload, which keeps no
// message to edit.
func (c *Config) Validate(remote bool) error {
	if c.MentionRole != "" && !snowflakeRE.MatchString(c.MentionRole) {
		return errors.New("mention_role: must be a Discord role ID (digits only)")
	}
	switch {
	case !remote && c.OnResolve != "":
		return errors.New(`on_resolve: only for type "discord" (a file keeps no message to edit)`)
	case remote && c.OnResolve == "":
		c.OnResolve = ResolveEdit
	case remote && c.OnResolve != ResolveEdit && c.OnResolve != ResolveEditAndPost && c.OnResolve != ResolvePost:
		return fmt.Errorf("on_resolve: %q is not one of edit, edit_and_post, post", c.OnResolve)
	}
	return nil
}

// Edits reports whether a target of c edits its messages on resolve.
func (c *Config) Edits() bool { return c.OnResolve == ResolveEdit || c.OnResolve == ResolveEditAndPost }
