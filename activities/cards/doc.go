// Package cards reads and writes SillyTavern-style character cards (Character Card V1,
// V2 and V3) so that users can bring their characters in and take them out again.
//
// Parse accepts a PNG with the card in a `ccv3` or `chara` text chunk, a CHARX zip, or a
// JSON file; ExportPNG and ExportJSON write one. Every key a card carries survives the
// trip, including keys no spec names (Card.Unknown, Card.UnknownTop), extensions and
// lorebook entries with tool-specific keys.
//
// # Mapping onto store.Personality
//
//	card field                  Personality / Extra
//	name                        Name (Slug from it, unless extensions.tzurot.slug says)
//	nickname                    DisplayName (else the name); kept in Extra.Nickname
//	description                 CharacterInfo
//	scenario                    CharacterInfo, as a last paragraph "Scenario: …";
//	                            kept in Extra.Scenario
//	personality                 Traits
//	mes_example                 ConversationalExamples
//	first_mes                   ConversationalExamples, as a last block
//	                            "<START>\n{{char}}: …"; kept in Extra.FirstMessage
//	system_prompt               SystemPrompt
//	tags                        Extra.Tags; a tag "nsfw" (any case) sets IsNSFW
//	assets (main icon, http)    AvatarURL; all assets kept in Extra.Assets
//	post_history_instructions   Extra (our prompt has no slot after the history)
//	creator_notes (+_multilingual) Extra (the spec forbids using them in prompts)
//	alternate_greetings,        Extra
//	group_only_greetings,
//	creator, character_version,
//	source, creation_date,
//	modification_date
//	character_book              Extra.CharacterBook (structured, unknown keys kept)
//	extensions                  Extra.Extensions, raw; extensions.tzurot is read back
//	                            into our columns (below)
//	unknown keys                Extra.Unknown, Extra.UnknownTop
//
// Our columns with no card field (Tone, Age, Appearance, Likes, Dislikes,
// ConversationalGoals, ErrorMessage, Birthday, Aliases, a non-derived Slug) go out in
// extensions.tzurot; the six prompt columns among them are also appended to the
// description as labelled paragraphs ("Tone: …") so that other tools show them. On the
// way back in, a description that still ends with exactly those paragraphs is taken apart
// again; one edited elsewhere is kept whole and the columns stay empty, so text is never
// doubled and never dropped. The same rule undoes the scenario and greeting folds.
// IsPublic, OwnerID and ID are not part of a card.
//
// Macros ({{char}}, {{user}}, <BOT>, <USER>) are stored as written; ExpandMacros fills
// them in when a prompt is built.
package cards
