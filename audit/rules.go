package audit

import (
	"errors"
	"regexp"
	"strings"
)

// A rule is one credential family the redactor masks in text. Rules are
// data: an id (what the mask names), the keywords one of which every match
// contains (the prefilter runs a rule only on strings holding one of its
// keywords, case-insensitively), and either a regular expression or a
// small matcher. The test corpus in testdata/redaction_corpus.json holds
// positive and negative cases for every rule.
type rule struct {
	id       string
	keywords []string
	// re is a Pattern's own regexp; lazy a default rule's, compiled on
	// first use (lazyregexp.go).
	re   *regexp.Regexp
	lazy *lazyRegexp
	// group is the submatch to mask; 0 masks the whole match.
	group int
	// replace, when set, is a regexp template used instead of the mask
	// (Pattern.Replace).
	replace string
	// valid, when set, must accept a match for it to be masked: a shape
	// checks what a regexp cannot say cheaply.
	valid func(m string) bool
	// match, when set instead of re, appends s with its secrets masked to
	// dst and reports whether it changed anything.
	match func(r *Redactor, dst []byte, s string) ([]byte, bool)
}

var errTooManyKeywords = errors.New("audit: too many distinct redaction keywords")

// The rule ids. Every id is what "[REDACTED:<id>]" names in a record.
const (
	ruleSecretAssignment = "secret_assignment"
	ruleBase64Credential = "base64_credential"
)

// defaultRules are the credential families masked by default, most
// specific first: a token matched by its own shape is named by its
// family; the generic assignment and base64 rules run last and skip what
// is already masked.
func defaultRules() []rule {
	lazy := func(src string) *lazyRegexp { return &lazyRegexp{src: src} }
	rules := []rule{
		// Private keys (PEM, OpenSSH, PGP, age).
		{id: "private_key", keywords: []string{"private key"},
			lazy: lazy(`-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?s:.*?)(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\z)`)},
		{id: "age_secret_key", keywords: []string{"age-secret-key-1"}, lazy: lazy(`AGE-SECRET-KEY-1[0-9A-Z]{50,}`)},

		// Tokens that carry their own shape.
		{id: "jwt", keywords: []string{"eyj"}, lazy: lazy(`eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)},

		// Source hosts.
		{id: "github_token", keywords: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"},
			lazy: lazy(`\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})`)},
		{id: "gitlab_token", keywords: []string{"glpat-", "glptt-", "gldt-", "glrt-", "glcbt-", "glsoat-", "gloas-"},
			lazy: lazy(`\bgl(?:pat|ptt|dt|rt|cbt|soat|oas)-[A-Za-z0-9_-]{20,}`)},
		{id: "bitbucket_token", keywords: []string{"atctt3"}, lazy: lazy(`\bATCTT3[A-Za-z0-9_=-]{20,}`)},
		{id: "atlassian_token", keywords: []string{"atatt3"}, lazy: lazy(`\bATATT3[A-Za-z0-9_=-]{20,}`)},

		// Cloud providers. A bare 40-character AWS secret access key looks
		// like any other base64, so it is matched only in context: after an
		// AKIA/ASIA key id (before the id's own rule masks it) or after a
		// key naming AWS.
		{id: "aws_secret_key", keywords: []string{"akia", "asia", "aws"},
			lazy:  lazy(`(?:(?:AKIA|ASIA)[A-Z0-9]{16}|(?i:aws)[A-Za-z0-9_.-]{0,30})[^A-Za-z0-9/+]{1,8}([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)`),
			group: 1, valid: awsSecretLike},
		{id: "aws_access_key_id", keywords: []string{"akia", "asia", "abia", "acca", "a3t"},
			lazy: lazy(`\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b`)},
		{id: "gcp_api_key", keywords: []string{"aiza"}, lazy: lazy(`\bAIza[0-9A-Za-z_-]{35}`)},
		{id: "google_oauth_token", keywords: []string{"ya29.", "gocspx-"}, lazy: lazy(`\b(?:ya29\.[0-9A-Za-z_-]{20,}|GOCSPX-[0-9A-Za-z_-]{20,})`)},
		{id: "azure_client_secret", keywords: []string{"q~"}, lazy: lazy(`\b[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}`)},
		{id: "digitalocean_token", keywords: []string{"dop_v1_", "doo_v1_", "dor_v1_"}, lazy: lazy(`\bdo[opr]_v1_[a-f0-9]{64}`)},
		{id: "vault_token", keywords: []string{"hvs.", "hvb.", "hvr."}, lazy: lazy(`\bhv[sbr]\.[A-Za-z0-9_-]{24,}`)},
		{id: "databricks_token", keywords: []string{"dapi"}, lazy: lazy(`\bdapi[a-f0-9]{32}(?:-\d)?\b`)},
		{id: "terraform_token", keywords: []string{".atlasv1."}, lazy: lazy(`\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,}`)},

		// Chat.
		{id: "slack_token", keywords: []string{"xox", "xapp-"}, lazy: lazy(`\b(?:xox[abposre]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,})`)},
		{id: "slack_webhook", keywords: []string{"hooks.slack.com"},
			lazy: lazy(`hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9+/_-]{8,})`), group: 1},
		{id: "discord_webhook", keywords: []string{"discord"},
			lazy: lazy(`discord(?:app)?\.com/api/webhooks/([0-9]{5,}/[A-Za-z0-9_-]{20,})`), group: 1},
		{id: "teams_webhook", keywords: []string{"webhook.office.com"},
			lazy: lazy(`webhook\.office\.com/(webhookb2/[A-Za-z0-9@/_-]{20,})`), group: 1},
		{id: "telegram_bot_token", keywords: []string{":aa"}, lazy: lazy(`\b[0-9]{8,10}:AA[0-9A-Za-z_-]{33}\b`)},

		{id: "twilio_api_key", keywords: []string{"sk0", "sk1", "sk2", "sk3", "sk4", "sk5", "sk6", "sk7", "sk8", "sk9", "ska", "skb", "skc", "skd", "ske", "skf"},
			lazy: lazy(`\bSK[0-9a-fA-F]{32}\b`)},

		// Payment.
		{id: "stripe_key", keywords: []string{"sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_"},
			lazy: lazy(`\b(?:[sr]k_(?:live|test)_[0-9A-Za-z]{10,}|whsec_[0-9A-Za-z]{20,})`)},
		{id: "square_token", keywords: []string{"sq0atp-", "sq0csp-", "eaaa"}, lazy: lazy(`\b(?:sq0(?:atp|csp)-[0-9A-Za-z_-]{22,}|EAAA[0-9A-Za-z_-]{60})\b`)},
		{id: "shopify_token", keywords: []string{"shpat_", "shpca_", "shppa_", "shpss_"}, lazy: lazy(`\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}`)},

		// AI providers.
		{id: "anthropic_api_key", keywords: []string{"sk-ant-"}, lazy: lazy(`\bsk-ant-[a-z0-9]+-[A-Za-z0-9_-]{20,}`)},
		{id: "openai_api_key", keywords: []string{"sk-"},
			lazy: lazy(`\bsk-(?:(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{32,})`)},
		{id: "huggingface_token", keywords: []string{"hf_"}, lazy: lazy(`\bhf_[A-Za-z]{34}\b`)},
		{id: "groq_api_key", keywords: []string{"gsk_"}, lazy: lazy(`\bgsk_[A-Za-z0-9]{48,}`)},
		{id: "replicate_token", keywords: []string{"r8_"}, lazy: lazy(`\br8_[A-Za-z0-9]{37}\b`)},
		{id: "perplexity_api_key", keywords: []string{"pplx-"}, lazy: lazy(`\bpplx-[A-Za-z0-9]{40,}`)},

		// Package registries.
		{id: "npm_token", keywords: []string{"npm_"}, lazy: lazy(`\bnpm_[A-Za-z0-9]{36}\b`)},
		{id: "pypi_token", keywords: []string{"pypi-"}, lazy: lazy(`\bpypi-AgE[A-Za-z0-9_-]{50,}`)},
		{id: "rubygems_token", keywords: []string{"rubygems_"}, lazy: lazy(`\brubygems_[a-f0-9]{48}\b`)},
		{id: "nuget_key", keywords: []string{"oy2"}, lazy: lazy(`\boy2[a-z0-9]{43}\b`)},
		{id: "dockerhub_token", keywords: []string{"dckr_pat_", "dckr_oat_"}, lazy: lazy(`\bdckr_(?:pat|oat)_[A-Za-z0-9_-]{20,}`)},

		// Other SaaS with their own prefix.
		{id: "sendgrid_key", keywords: []string{"sg."}, lazy: lazy(`\bSG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}`)},
		{id: "mailgun_key", keywords: []string{"key-"}, lazy: lazy(`\bkey-[0-9a-f]{32}\b`)},
		{id: "grafana_token", keywords: []string{"glsa_", "glc_"}, lazy: lazy(`\b(?:glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,}={0,2})`)},
		{id: "newrelic_key", keywords: []string{"nrak-", "nrii-"}, lazy: lazy(`\bNR(?:AK|II)-[A-Z0-9]{27}\b`)},
		{id: "sentry_token", keywords: []string{"sntrys_", "sntryu_"}, lazy: lazy(`\bsntry[su]_[A-Za-z0-9+/=_]{40,}`)},
		{id: "postman_key", keywords: []string{"pmak-"}, lazy: lazy(`\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b`)},
		{id: "linear_key", keywords: []string{"lin_api_"}, lazy: lazy(`\blin_api_[A-Za-z0-9]{40}\b`)},
		{id: "doppler_token", keywords: []string{"dp.pt.", "dp.st.", "dp.sa."}, lazy: lazy(`\bdp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,}`)},

		// Authorization schemes.
		// "Bearer tokens are refused" and "Basic authentication" are prose:
		// a credential has a digit or symbol, or decodes to user:password.
		{id: "bearer", keywords: []string{"bearer"}, lazy: lazy(`(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{6,}`), valid: credentialLike},
		{id: "basic", keywords: []string{"basic"}, lazy: lazy(`(?i)\bbasic\s+[A-Za-z0-9+/]{8,}=*`), valid: credentialLike},

		// Connection strings and URIs with a password, or with a key as
		// their user (a Sentry DSN).
		{id: "url_password", keywords: []string{"://"}, match: (*Redactor).maskURLPasswords},

		// Files that hold passwords in their own syntax: netrc entries and
		// htpasswd / crypt(3) / LDAP password hashes (offline-crackable).
		{id: "netrc_password", keywords: []string{"machine"},
			lazy: lazy(`(?i)\bmachine\s+\S+\s+login\s+\S+(?:\s+account\s+\S+)?\s+password\s+(\S+)`), group: 1},
		{id: "password_hash", keywords: []string{"$apr1$", "$1$", "$5$", "$6$", "$2a$", "$2b$", "$2x$", "$2y$", "$y$", "{sha", "{ssha"},
			lazy: lazy(`\$(?:apr1|1|5|6)\$(?:rounds=\d+\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{22,86}|\$2[abxy]\$\d{2}\$[./0-9A-Za-z]{53}|\$y\$[./0-9A-Za-z]+\$[./0-9A-Za-z]+\$[./0-9A-Za-z]{43}|\{S?SHA(?:256|512)?\}[A-Za-z0-9+/]{27,}={0,2}`)},

		// key=value, key: value, "key": "value", query strings, env files,
		// YAML and headers whose key names a secret.
		{id: ruleSecretAssignment, match: (*Redactor).maskAssignments},
		// base64 of user:password, standing alone.
		{id: ruleBase64Credential, match: (*Redactor).maskBase64Credentials},
	}
	// A token prefixed by a word boundary (\b) is also found after '_',
	// a word character: in a tool name such as get_ghp_... . The character
	// before it is matched outside the masked group; a trailing \b also
	// accepts a following '_'.
	for i := range rules {
		ru := &rules[i]
		if ru.lazy == nil || ru.group != 0 || !strings.HasPrefix(ru.lazy.src, `\b`) {
			continue
		}
		src := ru.lazy.src[2:]
		if strings.HasSuffix(src, `\b`) {
			src = src[:len(src)-2] + `(?:\b|_)`
		}
		ru.lazy, ru.group = lazy(`(?:^|[^A-Za-z0-9])(`+src+`)`), 1
	}
	return rules
}

// awsSecretLike accepts a 40-character AWS secret access key candidate
// with letters of both cases, as a random key has and hex digests, ids
// and words have not.
func awsSecretLike(m string) bool {
	if n := len(m); n > 0 && !isBase64Char(m[n-1]) {
		m = m[:n-1]
	}
	return len(m) >= 40 && mixedCase(m[len(m)-40:])
}

// credentialLike accepts the value after an Authorization scheme unless it
// is a plain word (letters only, and not base64 of user:password) or an
// assignment of its own: in "token_type=bearer max_tokens=4096" the word
// after the scheme is a key, and '=' ends base64 and tokens, never splits
// them.
func credentialLike(m string) bool {
	v := m[strings.LastIndexAny(m, " \t\r\n")+1:]
	if k := strings.IndexByte(v, '='); k >= 0 && strings.TrimRight(v[k:], "=") != "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return true
		}
	}
	return len(v) >= 24 || len(v) <= maxBase64Run && decodesToCredential(v)
}
