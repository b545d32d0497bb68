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
	re       *regexp.Regexp
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
	re := regexp.MustCompile
	rules := []rule{
		// Private keys (PEM, OpenSSH, PGP, age).
		{id: "private_key", keywords: []string{"private key"},
			re: re(`-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?s:.*?)(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\z)`)},
		{id: "age_secret_key", keywords: []string{"age-secret-key-1"}, re: re(`AGE-SECRET-KEY-1[0-9A-Z]{50,}`)},

		// Tokens that carry their own shape.
		{id: "jwt", keywords: []string{"eyj"}, re: re(`eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)},

		// Source hosts.
		{id: "github_token", keywords: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"},
			re: re(`\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})`)},
		{id: "gitlab_token", keywords: []string{"glpat-", "glptt-", "gldt-", "glrt-", "glcbt-", "glsoat-", "gloas-"},
			re: re(`\bgl(?:pat|ptt|dt|rt|cbt|soat|oas)-[A-Za-z0-9_-]{20,}`)},
		{id: "bitbucket_token", keywords: []string{"atctt3"}, re: re(`\bATCTT3[A-Za-z0-9_=-]{20,}`)},
		{id: "atlassian_token", keywords: []string{"atatt3"}, re: re(`\bATATT3[A-Za-z0-9_=-]{20,}`)},

		// Cloud providers. A bare 40-character AWS secret access key looks
		// like any other base64, so it is matched only in context: after an
		// AKIA/ASIA key id (before the id's own rule masks it) or after a
		// key naming AWS.
		{id: "aws_secret_key", keywords: []string{"akia", "asia", "aws"},
			re:    re(`(?:(?:AKIA|ASIA)[A-Z0-9]{16}|(?i:aws)[A-Za-z0-9_.-]{0,30})[^A-Za-z0-9/+]{1,8}([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)`),
			group: 1, valid: awsSecretLike},
		{id: "aws_access_key_id", keywords: []string{"akia", "asia", "abia", "acca", "a3t"},
			re: re(`\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b`)},
		{id: "gcp_api_key", keywords: []string{"aiza"}, re: re(`\bAIza[0-9A-Za-z_-]{35}`)},
		{id: "google_oauth_token", keywords: []string{"ya29.", "gocspx-"}, re: re(`\b(?:ya29\.[0-9A-Za-z_-]{20,}|GOCSPX-[0-9A-Za-z_-]{20,})`)},
		{id: "azure_client_secret", keywords: []string{"q~"}, re: re(`\b[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}`)},
		{id: "digitalocean_token", keywords: []string{"dop_v1_", "doo_v1_", "dor_v1_"}, re: re(`\bdo[opr]_v1_[a-f0-9]{64}`)},
		{id: "vault_token", keywords: []string{"hvs.", "hvb.", "hvr."}, re: re(`\bhv[sbr]\.[A-Za-z0-9_-]{24,}`)},
		{id: "databricks_token", keywords: []string{"dapi"}, re: re(`\bdapi[a-f0-9]{32}(?:-\d)?\b`)},
		{id: "terraform_token", keywords: []string{".atlasv1."}, re: re(`\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,}`)},

		// Chat.
		{id: "slack_token", keywords: []string{"xox", "xapp-"}, re: re(`\b(?:xox[abposre]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,})`)},
		{id: "slack_webhook", keywords: []string{"hooks.slack.com"},
			re: re(`hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9+/_-]{8,})`), group: 1},
		{id: "discord_webhook", keywords: []string{"discord"},
			re: re(`discord(?:app)?\.com/api/webhooks/([0-9]{5,}/[A-Za-z0-9_-]{20,})`), group: 1},
		{id: "teams_webhook", keywords: []string{"webhook.office.com"},
			re: re(`webhook\.office\.com/(webhookb2/[A-Za-z0-9@/_-]{20,})`), group: 1},
		{id: "telegram_bot_token", keywords: []string{":aa"}, re: re(`\b[0-9]{8,10}:AA[0-9A-Za-z_-]{33}\b`)},

		{id: "twilio_api_key", keywords: []string{"sk0", "sk1", "sk2", "sk3", "sk4", "sk5", "sk6", "sk7", "sk8", "sk9", "ska", "skb", "skc", "skd", "ske", "skf"},
			re: re(`\bSK[0-9a-fA-F]{32}\b`)},

		// Payment.
		{id: "stripe_key", keywords: []string{"sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_"},
			re: re(`\b(?:[sr]k_(?:live|test)_[0-9A-Za-z]{10,}|whsec_[0-9A-Za-z]{20,})`)},
		{id: "square_token", keywords: []string{"sq0atp-", "sq0csp-", "eaaa"}, re: re(`\b(?:sq0(?:atp|csp)-[0-9A-Za-z_-]{22,}|EAAA[0-9A-Za-z_-]{60})\b`)},
		{id: "shopify_token", keywords: []string{"shpat_", "shpca_", "shppa_", "shpss_"}, re: re(`\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}`)},

		// AI providers.
		{id: "anthropic_api_key", keywords: []string{"sk-ant-"}, re: re(`\bsk-ant-[a-z0-9]+-[A-Za-z0-9_-]{20,}`)},
		{id: "openai_api_key", keywords: []string{"sk-"},
			re: re(`\bsk-(?:(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{32,})`)},
		{id: "huggingface_token", keywords: []string{"hf_"}, re: re(`\bhf_[A-Za-z]{34}\b`)},
		{id: "groq_api_key", keywords: []string{"gsk_"}, re: re(`\bgsk_[A-Za-z0-9]{48,}`)},
		{id: "replicate_token", keywords: []string{"r8_"}, re: re(`\br8_[A-Za-z0-9]{37}\b`)},
		{id: "perplexity_api_key", keywords: []string{"pplx-"}, re: re(`\bpplx-[A-Za-z0-9]{40,}`)},

		// Package registries.
		{id: "npm_token", keywords: []string{"npm_"}, re: re(`\bnpm_[A-Za-z0-9]{36}\b`)},
		{id: "pypi_token", keywords: []string{"pypi-"}, re: re(`\bpypi-AgE[A-Za-z0-9_-]{50,}`)},
		{id: "rubygems_token", keywords: []string{"rubygems_"}, re: re(`\brubygems_[a-f0-9]{48}\b`)},
		{id: "nuget_key", keywords: []string{"oy2"}, re: re(`\boy2[a-z0-9]{43}\b`)},
		{id: "dockerhub_token", keywords: []string{"dckr_pat_", "dckr_oat_"}, re: re(`\bdckr_(?:pat|oat)_[A-Za-z0-9_-]{20,}`)},

		// Other SaaS with their own prefix.
		{id: "sendgrid_key", keywords: []string{"sg."}, re: re(`\bSG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}`)},
		{id: "mailgun_key", keywords: []string{"key-"}, re: re(`\bkey-[0-9a-f]{32}\b`)},
		{id: "grafana_token", keywords: []string{"glsa_", "glc_"}, re: re(`\b(?:glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,}={0,2})`)},
		{id: "newrelic_key", keywords: []string{"nrak-", "nrii-"}, re: re(`\bNR(?:AK|II)-[A-Z0-9]{27}\b`)},
		{id: "sentry_token", keywords: []string{"sntrys_", "sntryu_"}, re: re(`\bsntry[su]_[A-Za-z0-9+/=_]{40,}`)},
		{id: "postman_key", keywords: []string{"pmak-"}, re: re(`\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b`)},
		{id: "linear_key", keywords: []string{"lin_api_"}, re: re(`\blin_api_[A-Za-z0-9]{40}\b`)},
		{id: "doppler_token", keywords: []string{"dp.pt.", "dp.st.", "dp.sa."}, re: re(`\bdp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,}`)},

		// Authorization schemes.
		// "Bearer tokens are refused" and "Basic authentication" are prose:
		// a credential has a digit or symbol, or decodes to user:password.
		{id: "bearer", keywords: []string{"bearer"}, re: re(`(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{6,}`), valid: credentialLike},
		{id: "basic", keywords: []string{"basic"}, re: re(`(?i)\bbasic\s+[A-Za-z0-9+/]{8,}=*`), valid: credentialLike},

		// Connection strings and URIs with a password, or with a key as
		// their user (a Sentry DSN).
		{id: "url_password", keywords: []string{"://"}, match: (*Redactor).maskURLPasswords},

		// Files that hold passwords in their own syntax: netrc entries and
		// htpasswd / crypt(3) / LDAP password hashes (offline-crackable).
		{id: "netrc_password", keywords: []string{"machine"},
			re: re(`(?i)\bmachine\s+\S+\s+login\s+\S+(?:\s+account\s+\S+)?\s+password\s+(\S+)`), group: 1},
		{id: "password_hash", keywords: []string{"$apr1$", "$1$", "$5$", "$6$", "$2a$", "$2b$", "$2x$", "$2y$", "$y$", "{sha", "{ssha"},
			re: re(`\$(?:apr1|1|5|6)\$(?:rounds=\d+\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{22,86}|\$2[abxy]\$\d{2}\$[./0-9A-Za-z]{53}|\$y\$[./0-9A-Za-z]+\$[./0-9A-Za-z]+\$[./0-9A-Za-z]{43}|\{S?SHA(?:256|512)?\}[A-Za-z0-9+/]{27,}={0,2}`)},

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
		if ru.re == nil || ru.group != 0 || !strings.HasPrefix(ru.re.String(), `\b`) {
			continue
		}
		src := ru.re.String()[2:]
		if strings.HasSuffix(src, `\b`) {
			src = src[:len(src)-2] + `(?:\b|_)`
		}
		ru.re, ru.group = re(`(?:^|[^A-Za-z0-9])(`+src+`)`), 1
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
