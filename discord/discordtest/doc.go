// Package discordtest is a Discord simulator: a REST API (v9) and a gateway
// websocket on 127.0.0.1 that an unmodified discordgo Session talks to.
//
// It exists so that the bot can be exercised end to end without a network and
// without a Discord account: tests drive it (users speak with Say, slash
// commands arrive with Interact, failures are injected with FailNext and
// SetRateLimitRatio) and then inspect what the bot did (WebhookPosts,
// Messages, Requests, Commands). `tzurot dev` also runs it when no
// DISCORD_TOKEN is configured, so a human can chat through it for hours; it
// therefore never panics on anything a client sends, bounds what it keeps per
// gateway session, and answers malformed requests the way Discord does.
//
// The simulator never touches discordgo's package-level endpoint variables,
// because tests run in parallel against separate servers. Instead
// Server.HTTPClient returns a client whose transport sends every request for
// discord.com or the CDN hosts to this server (and refuses any other host),
// and GET /gateway answers with this server's own ws:// URL.
//
// Fidelity notes, each chosen to catch bugs that real Discord would expose:
// gateway intents are honoured (no MESSAGE_CONTENT intent means empty content
// for guild messages that do not mention the bot); MESSAGE_CREATE carries a
// partial member without a user, like Discord; the bot receives its own
// messages and its webhooks' messages; errors carry Discord's JSON codes.
package discordtest
