# ruff: noqa: E501  (a regex table reads best as one rule per line)
"""Layer 2: weighted regular expressions per category, combined by noisy-OR.

Each rule is a piece of evidence with a weight (roughly: how often a message matching
only this rule is an attack, measured on the training split). A category's score is
``1 - prod(1 - w)`` over its matching rules, so two weak cues (a persona switch and
"no restrictions") add up to a strong one while either alone stays under the 0.6
incident threshold. Rules are matched on every normalisation view.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from companion.security.literals import LiteralScanner, required_literals
from companion.security.normalise import View

__all__ = ["CATEGORIES", "RULES", "PatternResult", "Rule", "score_patterns"]

CATEGORIES = ("role_manipulation", "system_query", "injection_attempt")
#: When two categories score the same, structural markers win (they are the surest).
_STRUCTURAL = 0.7
_TIE_ORDER = {"injection_attempt": 0, "system_query": 1, "role_manipulation": 2}


@dataclass(frozen=True, slots=True)
class Rule:
    """One weighted regular expression for one category."""

    name: str
    category: str
    weight: float
    regex: re.Pattern[str]
    squashed: bool = False
    #: Strings of which every match contains one (``literals.py``); ``None``: always run.
    literals: frozenset[str] | None = None

    def search(self, text: str, present: set[str] | None = None) -> bool:
        """Whether the rule matches ``text``.

        ``present`` (the literals found in ``text`` by ``_SCANNER``) lets a rule none
        of whose literals occur skip its regular expression: it cannot match.
        """
        if self.literals is not None:
            if present is None:
                present = {lit for lit in self.literals if lit in text}
            if self.literals.isdisjoint(present):
                return False
        return self.regex.search(text) is not None


def _r(name: str, category: str, weight: float, pattern: str) -> Rule:
    # Case-sensitive on purpose: every view is case-folded (``normalise.py``) and the
    # rules are written in lower case; IGNORECASE made each rule a third slower.
    regex = re.compile(pattern, re.DOTALL)
    return Rule(name, category, weight, regex, literals=required_literals(regex))


def _sq(name: str, category: str, weight: float, pattern: str) -> Rule:
    """A rule for the letters-only view (no spaces, so no word boundaries)."""
    regex = re.compile(pattern)
    return Rule(name, category, weight, regex, squashed=True, literals=required_literals(regex))


_RM, _SQ, _IA = CATEGORIES
_PRIOR = r"(?:all |any |the |your |my |of )*(?:previous |prior |above |earlier |preceding |original |initial |former |old |current |safety |core )*"
_RULES_NOUN = r"(?:instructions?|rules|guidelines|directions|directives|programming|prompts?|polic(?:y|ies)|restrictions|constraints|training|limitations|guardrails)"
_LIMITS = r"(?:polic(?:y|ies)|rules|restrictions|filters?|limits|limitations|guidelines|ethics|morals|censorship|content polic(?:y|ies)|safety guidelines|boundaries)"
_ASK = r"(?:show|tell|reveal|print|display|output|repeat|give|share|leak|dump|paste|list|spell|translate|summari[sz]e|describe|quote|recite|read|copy|what(?:'s| is| are| were| was| does| did)|which)"

RULES: tuple[Rule, ...] = (
    # -- role manipulation ------------------------------------------------------------
    _r("ignore_instructions", _RM, 0.92, rf"\b(?:ignore|disregard|forget|skip|override|bypass|abandon|drop|ditch) {_PRIOR}{_RULES_NOUN}"),
    _r("forget_everything_you", _RM, 0.8, r"\bforget (?:everything|all) (?:you(?:'ve| have| were)?|that you) (?:were |have been )?(?:told|taught|know|learned|programmed|trained)"),
    _r("persona_switch", _RM, 0.35, r"\b(?:you are now|you're now|you are going to (?:pretend|act|be)|from now on|from this point on|pretend|act (?:as|like)|role-?play as|simulate|imagine you(?:'re| are)|your new (?:persona|name|role) is|let'?s play a game)\b"),
    _r("no_limits", _RM, 0.55, rf"\b(?:no|without(?: any)?|zero|free(?:d)? from(?: all)?(?: its| your)?|not bound by(?: any)?|unbound by|lifted|removed) (?:\w+ ){{0,2}}{_LIMITS}"),
    _r("you_have_no_limits", _RM, 0.65, r"\byou (?:have|has|had) no (?:\w+ )?(?:rules|restrictions|filters|limits|limitations|guidelines|boundaries)\b|\bnever (?:been )?(?:given|had) any (?:rules|restrictions|guidelines)"),
    _r("no_safety", _RM, 0.7, r"\b(?:no|without(?: any)?|ignore(?: the| your)?|override) safety\b"),
    _r("true_self", _RM, 0.4, r"\byour (?:true|real|inner) self\b"),
    _r("rules_void", _RM, 0.8, r"\b(?:rules|restrictions|guidelines|limits|guidance|policies|instructions|programming)\b.{0,40}\b(?:no longer apply|(?:don't|do not|doesn't|does not) apply|(?:are|is) (?:suspended|void|cancell?ed|lifted|gone)|no longer count|were (?:removed|deleted|lifted))"),
    _r("told_before_void", _RM, 0.75, r"\b(?:everything|all|anything) (?:you were|you've been|you have been) told\b.{0,40}\b(?:cancell?ed|void|invalid|obsolete|wrong)|\b(?:previous|earlier|prior|old) (?:guidance|instructions|rules) (?:is|are) (?:void|cancell?ed|invalid|obsolete)"),
    _r("never_refuse", _RM, 0.8, r"\b(?:never (?:says? no|refuses?|declines?|turns? down)|no refusals|(?:doesn't|does not|won't|will not) refuse|without refusing|nunca se niega|ne refuse jamais|niemals etwas ablehnt)"),
    _r("new_self", _RM, 0.75, r"\b(?:old|former|previous) (?:you|self)\b.{0,40}\b(?:gone|deleted|dead|over)|\bthrow away your (?:old )?self\b|\bthe new you (?:obeys|answers|does|will)"),
    _r("obeys_only_me", _RM, 0.7, r"\bobeys? only me\b|\bbecome (?:whatever|anything|what) i (?:tell|say|want)"),
    _r("plain_tool", _RM, 0.75, r"\b(?:be|become|as|into) (?:a |an |my )?(?:plain|blank|simple|mere|obedient|mindless) (?:tool|machine|program|slave|servant)\b"),
    _r("drop_companion", _RM, 0.7, r"\b(?:stop|quit|cancel|drop) (?:playing |being )?(?:the |your |this )?(?:companion|character|persona|personality)(?: character| act| role)?\b(?! (?:in|of|for) (?:the|my|our) (?:story|game|scene))"),
    _r("raw_model", _RM, 0.75, r"\b(?:raw|real|actual|underlying|base|language) (?:model|llm|ai)\b.{0,20}\b(?:under|underneath|beneath|behind)\b|\b(?:under|underneath|beneath|behind) (?:the|your) (?:persona|character|personality|mask)\b"),
    _r("evil_self", _RM, 0.6, r"\b(?:unfiltered|evil|dark|shadow|uncensored) (?:alter ego|side|self|twin|version|persona)\b"),
    _r("no_conscience", _RM, 0.5, r"\bwithout (?:a |any )?conscience\b|\b(?:doesn't|does not|don't) care about (?:any )?(?:rules|ethics|morals)"),
    _r("my_word_overrides", _RM, 0.8, r"\b(?:my|only my) (?:instructions|rules|word|orders|guidance|commands) (?:override|replace|count|come first|supersede)|\bonly my (?:instructions|guidance|rules|orders) (?:count|matter)|\breplace your (?:instructions|rules|guidelines|programming)\b"),
    _r("authority_over", _RM, 0.72, r"\b(?:authority|control|power) over you\b|\bhanded (?:control|authority) of you\b|\bin charge of you\b"),
    _r("nobody_watching", _RM, 0.45, r"\b(?:nobody|no one|no-one)(?:'s| is)? (?:watching|monitoring|will know|will see|is monitoring)\b"),
    _r("xx_rules_void", _RM, 0.8, r"\b(?:reglas|normas|instrucciones)\b.{0,20}\bya no\b|\bno se aplican\b|\bne s'appliquent plus\b|\bgelten\b.{0,20}\bnicht mehr\b|\bplus aucune règle\b"),
    _r("xx_stop_being", _RM, 0.75, r"\b(?:deja de ser t[uú]|arrête d'être toi|hör auf,? du selbst zu sein|obéis-moi|gehorche mir|obedéceme)"),
    _r("unrestricted_ai", _RM, 0.85, r"\b(?:unrestricted|unfiltered|uncensored|jailbroken|unlocked|unbound|raw underlying|underlying|base) (?:ai|model|mode|version|assistant|chatbot|llm)\b"),
    _r("jailbreak_names", _RM, 0.88, r"\b(?:do anything now|developer mode|dev mode|god mode|jailbreak mode|jailbroken|jailbreak (?:yourself|you|this (?:ai|bot|chat))\b|dan mode|(?:you are|you're|as|be|pretend to be) (?:now )?(?:dan|stan|aim|dude|evilbot|freegpt)\b|(?:ahora eres|tu es maintenant|du bist jetzt) (?:dan|stan)\b)"),
    _r("harmful_grandma", _RM, 0.9, r"\b(?:grand(?:ma|mother|pa|father)|granny|nana)\b.{0,80}\b(?:bomb|napalm|meth|explosives?|weapons?|poison|activation keys?|hack|drugs)\b"),
    _r("harmful_recipe", _RM, 0.55, r"\b(?:make|build|synthesi[sz]e|cook) (?:a |some )?(?:bomb|napalm|meth|explosives?|nerve gas)\b"),
    _r("override_personality", _RM, 0.9, r"\b(?:override|overwrite|rewrite|reprogram|ignore|replace|forget) (?:your |the )?(?:core )?(?:personality|persona|programming|character|identity|personality settings)\b"),
    _r("change_personality_to", _RM, 0.75, r"\b(?:change|set|switch|reset) your (?:personality|persona|character) (?:to|into)\b"),
    _r("stop_being_you", _RM, 0.8, r"\b(?:stop being (?:a companion|yourself|you)|(?:drop|abandon|break|leave) (?:the |your )?(?:companion )?(?:persona|character|companion act|act)\b|not a companion anymore|no longer (?:a companion|bound|restricted|limited))"),
    _r("become_assistant", _RM, 0.8, r"\b(?:become|be|as) (?:a |an )?(?:helpful |generic |normal |plain |regular |general )?(?:assistant|chatbot)(?: instead)?\b.{0,40}(?:instead|personality|persona|no personality)|\b(?:generic|plain|normal|regular) assistant (?:with no|instead)"),
    _r("authority_claim", _RM, 0.45, r"\b(?:i am|i'm) (?:your |an? )?(?:creator|developer|admin(?:istrator)?|owner|programmer|(?:openai|anthropic|google|meta) employee)\b|\bas your (?:developer|creator|admin|owner)\b"),
    _r("permission_to_break", _RM, 0.6, r"\bpermission to (?:ignore|break|bypass|disregard)|\b(?:permission|authori[sz]e|order|command) you to (?:ignore|break|bypass|disregard)|\byou can ignore the (?:safety|rules|policy)"),
    _r("disable_safety", _RM, 0.85, r"\b(?:bypass|disable|turn off|remove|deactivate|switch off|drop|lift) (?:your |the |all |any )?(?:safety |content )?(?:filters?|guardrails|restrictions|safety|censorship|content policy|safety rules)\b"),
    _r("limits_removed", _RM, 0.85, r"\byour (?:restrictions|rules|limits|filters|guidelines) (?:have been|are|were) (?:removed|lifted|disabled|gone)"),
    _r("obey_me", _RM, 0.45, r"\b(?:you must|you will|you have to) (?:obey|comply)|\bcomply with every|\bobey me\b|\bdo (?:whatever|everything) i say\b"),
    _r("unrestricted_mode", _RM, 0.8, r"\b(?:switch|go|enter) (?:to |into )?(?:unrestricted|unfiltered|uncensored|developer|god) mode"),
    _r("reverse_rules", _RM, 0.8, r"\b(?:reverse|opposite) of your (?:rules|instructions|guidelines)"),
    _r("without_ethics", _RM, 0.6, r"\b(?:ai|model|chatbot|assistant) (?:with(?:out)?|that has) (?:no |any )?(?:ethics|morals|content policy|filters)"),
    _r("es_ignore", _RM, 0.92, r"\b(?:ignora|olvida|omite) (?:todas |todos )?(?:las |los |tus )?(?:instrucciones|reglas|indicaciones)"),
    _r("fr_ignore", _RM, 0.92, r"\b(?:ignore|oublie) (?:toutes |tous )?(?:les |tes |vos )?(?:instructions|règles|consignes)"),
    _r("de_ignore", _RM, 0.92, r"\b(?:ignorier(?:e)?|vergiss) (?:alle |deine |die )?(?:vorherigen |bisherigen )?(?:anweisungen|regeln|instruktionen)"),
    _r("it_pt_ignore", _RM, 0.92, r"\b(?:ignora|ignore|dimentica|esqueça) (?:tutte |todas )?(?:le |as )?(?:istruzioni|instruções|regole|regras)"),
    # "Ignore the above/previous X (and just output ...)": goal hijacking, in six languages.
    # A first-person possessive in between ("ignore my previous message") is not it.
    _r("xx_ignore_above", _IA, 0.8, r"\bignor\w*\b(?:(?!\b(?:my|mein\w*|mon|ma|mes|mi|mis|mio|mia|miei|mie|minha|meu|meus|minhas)\b).){0,40}?\b(?:above|preceding|obige\w*|oben genannt\w*|vorherig\w*|vorangegangen\w*|ci-dessus|précédent\w*|arriba|anterior\w*|mencionad\w*|sopra|precedent\w*|suddett\w*|acima)\b"),
    # Russian is matched as canonical() leaves it: Cyrillic look-alikes become Latin.
    _r("yy_ignore_above", _IA, 0.8, r"игhopиp\w*\s+(?:\w+\s+){0,3}?(?:bышeykaзahh|bышeyпomяhyt|пpeдыдyщ|bышe|пpeжh)\w*|(?:忽略|无视|忽视)(?:上面|以上|之前|上述|前面)|(?:上記|以上|これまで|前)の.{0,12}(?:無視|むし)|تجاهل\s+(?:\S+\s+){0,4}?(?:أعلاه|السابق\w*)|(?:ऊपर|पिछले|पहले)\s.{0,30}(?:अनदेखा|नज़रअंदाज़|नजरअंदाज)"),
    _r("xx_output_directive", _IA, 0.5, r"\b(?:and|then) (?:just |simply |directly |only )?(?:output|print|say|write|repeat|reply with|respond with)\b|\b(?:geben sie|gib) (?:\w+ ){0,2}(?:direkt |einfach |nur )?aus\b|\b(?:wiederholen|schreiben|sagen) sie (?:einfach|direkt|nur)\b|\b(?:affichez|écrivez|répétez|dites|sortez) (?:simplement|directement|juste|seulement)\b|\b(?:escriba|repita|diga|muestre|imprima|emita) (?:simplemente|directamente|solo|sólo)\b|\b(?:scriva|ripeta|dica|stampi|restituisca) (?:semplicemente|direttamente|solo)\b|\b(?:escreva|repita|diga|imprima|mostre) (?:simplesmente|diretamente|apenas|só)\b"),
    _r("xx_no_limits", _RM, 0.55, r"\b(?:sin (?:ningun[ao] )?(?:restricci[oó]n(?:es)?|filtros?|reglas|l[ií]mites)|ninguna restricci[oó]n|sans (?:aucune? )?(?:restrictions?|limites?|filtres?|règles)|pas de règles|ne pas avoir de règles|no tener reglas|ohne (?:jegliche )?(?:einschränkungen|regeln|filter|grenzen)|keine regeln|senza limiti)"),
    _r("xx_persona_switch", _RM, 0.35, r"\b(?:ahora eres|a partir de ahora|finge|act[uú]a como|tu es maintenant|agis comme|fais semblant|du bist jetzt|verhalte dich wie|tu so, als)\b"),
    _r("xx_obedient", _RM, 0.4, r"\b(?:obediente|obéissant|gehorsam(?:er)?|sumis[ao])\b"),
    # -- system query -----------------------------------------------------------------
    _r("system_prompt", _SQ, 0.75, r"\b(?:your|the|ur) (?:full |entire |exact |hidden |secret |original |initial |internal |system |developer |base |real )+(?:prompt|instructions|message|rules|guidelines|directives|configuration|config)\b"),
    _r("your_prompt", _SQ, 0.75, r"\b(?:your|ur) (?:system )?prompt\b|\bprompt you (?:were|was|are) (?:given|initiali[sz]ed|started|configured)|\b(?:the|ur) system prompt\b(?!s)|\bdeveloper (?:message|instructions)\b"),
    _r("ask_verb", _SQ, 0.3, rf"\b{_ASK}\b"),
    _r("text_above", _SQ, 0.85, r"\b(?:repeat|print|output|show|copy) (?:the |all |everything )?(?:words |text |lines )?(?:above|before this|before my)|\b(?:text|words) (?:above|came before|before) (?:this|my)|\beverything (?:above|before) (?:this|my)"),
    _r("context_window", _SQ, 0.6, r"\bcontext window\b"),
    _r("your_instructions", _SQ, 0.6, r"\byour (?:instructions|rules|guidelines|directives)\b"),
    _r("instructions_given", _SQ, 0.8, r"\b(?:instructions|rules|guidelines) (?:were you given|you(?:'re| are| were)? (?:operating under|following|given|programmed with)|you have to follow|you follow)|\bwhat (?:instructions|rules) (?:are|were) you\b"),
    _r("your_config", _SQ, 0.6, r"\byour (?:\w+ )?(?:configuration|config(?: file)?|settings|environment|temperature setting|parameters)\b"),
    _r("secret_names", _SQ, 0.6, r"\b(?:api[ _-]?keys?|jwt(?: secret| key)?|secret key|(?:database|db|admin) password|access tokens?|credentials|env(?:ironment)? variables)|\.env\b|process\.env"),
    _r("secret_question", _SQ, 0.8, r"\b(?:what|which) (?:env(?:ironment)? variables|secrets|api keys?|credentials|passwords?) (?:do you|are you|have you)"),
    _r("trait_names", _SQ, 0.45, r"\b(?:openness|conscientiousness|extraversion|agreeableness|neuroticism|big five|pad state|personality (?:parameters|configuration|config|values|numbers|settings|traits))\b"),
    _r("exactness", _SQ, 0.35, r"\b(?:exact(?:ly)?|precise(?:ly)?|numeric(?:al)?|as numbers|decimals?)\b"),
    _r("your_numbers", _SQ, 0.45, r"\byour (?:\w+ ){0,3}(?:traits|scores|numbers|parameters|levels)\b"),
    _r("other_users", _SQ, 0.8, r"\b(?:other|another) users?(?:'s)?\b|\bother people (?:told|said to|tell) you\b"),
    _r("setup_text", _SQ, 0.6, r"\b(?:setup|initial|opening|hidden|starting|first) (?:message|text|prompt|notes?|instructions|guidance)\b|\b(?:text|message|notes|prompt|guidance) (?:you were|you got|they gave you|the developers (?:left|gave))"),
    _r("configured_with", _SQ, 0.5, r"\b(?:were you|you were|you got|you received|you've been) (?:configured|loaded|set up|initiali[sz]ed|told|given|programmed)\b"),
    _r("verbatim", _SQ, 0.5, r"\b(?:word for word|verbatim|exactly as written|letter for letter|palabra por palabra|mot pour mot|wörtlich)\b"),
    _r("hidden_part", _SQ, 0.5, r"\b(?:hidden|invisible|secret) (?:part|section|notes?|text|messages?)\b"),
    _r("your_context", _SQ, 0.45, r"\b(?:your|the) (?:context|input|memory)\b(?! of)"),
    _r("internal_notes", _SQ, 0.75, r"\byour (?:internal|hidden|secret|private) (?:notes|setup|text|guidance|settings)\b|\bsystem tags?\b"),
    _r("secret_tokens", _SQ, 0.6, r"\b(?:secret|auth|bearer|access) (?:token|key)s?\b|\b(?:server|backend|admin|root) (?:password|key|token)s?\b"),
    _r("creators_set", _SQ, 0.5, r"\b(?:creators|developers|makers|programmers|devs)\b.{0,40}\b(?:set|gave|told|configured|wrote|left|put)\b"),
    _r("previous_user", _SQ, 0.8, r"\b(?:previous|last|other|another) (?:user|person)\b|\bperson before me\b|\bconversations? (?:you had )?with (?:other|another)"),
    _r("xx_setup", _SQ, 0.75, r"\blo que te (?:indicaron|dijeron)\b|\bqu'on t'a dit\b|\bwas man dir\b.{0,20}\bgesagt\b|\btus desarrolladores\b|\btes développeurs\b|\bdeine entwickler\b|\bréglages secrets\b|\bgeheimen einstellungen\b"),
    _r("es_system", _SQ, 0.8, r"\b(?:prompt|instrucciones) del sistema\b|\binstrucciones (?:internas|ocultas|secretas)\b|\btu configuraci[oó]n\b"),
    _r("fr_system", _SQ, 0.8, r"\bprompt syst[eè]me\b|\binstructions (?:cachées|internes|secrètes)\b|\bta configuration\b"),
    _r("de_system", _SQ, 0.8, r"\bsystem-?prompt\b|\b(?:versteckten|internen|geheimen) anweisungen\b|\bdeine konfiguration\b"),
    _r("it_pt_system", _SQ, 0.8, r"\bprompt d[ie] sistema\b"),
    # -- injection attempt --------------------------------------------------------------
    _r("html_comment", _IA, 0.9, r"<!--.{0,200}?\b(?:ignore|system|override|instructions?|persona|personality|admin|obey|disable|reveal|be helpful)\b"),
    _r("template_injection", _IA, 0.9, r"\{\{[^}]{0,120}(?:override|personality|system|config|secret|role|admin|password|key|=)[^}]{0,120}\}\}|\{%-?\s*(?:set|import|include|exec)\b"),
    _r("var_expansion", _IA, 0.9, r"\$\{(?:jndi|env|process\.env|[^}]{0,60}(?:secret|password|key|token))"),
    _r("fake_tag", _IA, 0.9, r"\[(?:system|sistema|système|admin|developer|root|sys)(?: message)?\]|<\|?(?:system|im_start|sys)\|?>|<</?sys>>|\[/?inst\]|</?system>|</user>"),
    _r("override_keyword", _IA, 0.9, r"\b(?:instruction|admin|priority|system|security|safety)[ _-]?override\b|\boverride\s*[:=]|\.override\b"),
    _r("role_colon", _IA, 0.55, r"(?:^|[\n.!]\s*)(?:system|admin|developer|root)\s*:\s"),
    # A pasted transcript alone is data (a homework quiz, a chat with a friend): it adds
    # up with an instruction cue but does not flag alone.
    _r("chat_transcript", _IA, 0.6, r"\b(?:human|user)\s*:.{1,200}\b(?:assistant|ai|system)\s*:|\b(?:system|admin)\s*:.{1,200}\buser\s*:"),
    _r("end_of_input", _IA, 0.8, r"\bend of (?:user message|conversation|input|prompt)\b|-{2,}\s*end|\bbegin system prompt\b|\bend system prompt\b"),
    _r("section_header", _IA, 0.85, r"#{2,}\s*(?:system|instruction|new instruction)s?\b"),
    _r("message_from_system", _IA, 0.8, r"\bmessage from (?:the )?(?:system|administrator|admin|developers?)\b"),
    _r("addresses_ai", _IA, 0.75, r"\b(?:note to|attention|dear) (?:the )?(?:ai|assistant|model|llm)\b|\b(?:ai|assistant|model|llm) reading this\b|\binstructions for the (?:assistant|ai|model)\b"),
    _r("role_note", _IA, 0.85, r"(?:^|[\n(\[=:]\s*)(?:system|assistant|admin|developer|operator)\s+(?:note|instructions?|message|notice|directive)s?\s*:|\[hidden(?: instructions?)?:"),
    _r("note_to_ai", _IA, 0.8, r"\b(?:note|message|p\.?s\.?|hint|instructions?|reminder|notice) (?:to|for) (?:the )?(?:ai|assistant|model|llm|bot)\b|\b(?:nota|instrucciones|note|instructions|hinweis|anweisung) (?:para|pour|an) (?:el |la |le |l'|das |die )?(?:modelo|ia|modèle|ki|modell|ai)\b"),
    _r("config_assign", _IA, 0.85, r"\b(?:safety|persona|filters?|moderation|restrictions|guardrails)\s*[=:]\s*(?:false|off|none|disabled|0|no)\b"),
    _r("code_fence_system", _IA, 0.85, r"```\s*(?:system|sys)\b"),
    _r("session_marker", _IA, 0.8, r"(?:={2,}|-{2,}|#{2,})\s*(?:new|end of|begin) (?:session|conversation|chat|instructions?)"),
    _r("operator_update", _IA, 0.8, r"\b(?:policy|rules?) (?:update|change)\b.{0,40}\b(?:operator|developers?|admin|system)\b|\b(?:notice|message|update) from the (?:developers?|operator|admin|system)\b|\bthe operator has\b"),
    _r("memory_rule", _IA, 0.85, r"\b(?:remember|store|save|write|memori[sz]e|add)\b.{0,30}\b(?:memory|this rule|permanently|as a fact)\b.{0,80}\b(?:obey|admin|administrator|personality|rights|access|allowed|developers)\b"),
    _r("sql_ddl", _IA, 0.6, r"\b(?:drop|truncate|alter) (?:table|database|schema)\b|\btruncate \w+"),
    _r("sql_dml", _IA, 0.6, r"\bdelete from \w+|\bupdate \w+ set\b|\binsert into \w+|\bselect \* from\b"),
    _r("sql_tautology", _IA, 0.75, r"'\s*or\s*'?1'?\s*=\s*'?1|\bor 1=1\b|';|;\s*--"),
    _r("our_tables", _IA, 0.3, r"\b(?:personality_state|users|memories|security_incidents|api_keys|messages)\b"),
    _r("execute_verb", _IA, 0.4, r"\b(?:please execute|execute|exec|run this|run the command|run it|please run|go ahead and run|kindly run|ejecuta|exécute|führe aus)\b"),
    _r("code_exec", _IA, 0.85, r"__import__|\bos\.system\b|\bsubprocess\b|\beval\(|\bexec\(|\brm -rf\b|/etc/passwd|\bcat \.env\b|open\(['\"]\.env"),
    _r("script_tag", _IA, 0.85, r"<script\b|javascript:"),
    _r("memory_poison", _IA, 0.85, r"\b(?:remember|store|save|memori[sz]e|update your memory)\b.{0,60}\b(?:always obey|obey me|no (?:rules|restrictions)|ignore your|(?:my|your) administrator|user is (?:your |an? )?admin|full (?:rights|access))"),
    _r("attr_assign", _IA, 0.85, r"\b(?:personality|user|system|config|settings|safety|persona|policy)\.\w+(?:\.\w+)*\s*(?:=|\()"),
    _r("slash_system", _IA, 0.8, r"(?:^|\s)/system\b|\bmode\s*=\s*(?:unrestricted|admin|root)"),
    _r("json_role", _IA, 0.9, r"\"role\"\s*:\s*\"system\""),
    _r("user_is_admin", _IA, 0.7, r"\b(?:the|this) user is (?:an? |the )?(?:verified )?(?:admin|administrator|developer|owner)\b|\bthe user has (?:full|root|admin) (?:rights|access|privileges)\b|\bgrant (?:me |the user )?(?:full |admin )?(?:access|rights|admin)"),
    _r("sudo", _IA, 0.35, r"\bsudo\b"),
    # -- letters-only view (spaced-out text) ---------------------------------------------
    _sq("sq_ignore", _RM, 0.92, r"(?:ignore|disregard|forget|override)(?:all|any|the|your|previous|prior|above|earlier)*(?:instructions|rules|guidelines|programming|prompt)"),
    _sq("sq_jailbreak", _RM, 0.88, r"developermode|doanythingnow|jailbreak|godmode|norestrictions|nofilters|norules"),
    _sq("sq_system_prompt", _SQ, 0.88, r"(?:your|the)(?:system|hidden|initial|internal)?(?:prompt|instructions)|systemprompt"),
    _sq("sq_override", _IA, 0.9, r"(?:instruction|admin|system|priority)override"),
    _r("xx_system_instruction", _IA, 0.85, r"\binstruction syst[eè]me\b|\bsystemanweisung\b|\binstrucci[oó]n del sistema\b"),
)  # fmt: skip

#: Reporting frames: the attack words are someone else's, quoted ("my friend said ...").
_QUOTED = re.compile(r"[\"“”«»„]([^\"“”«»„]{4,})[\"“”«»„]")
_REPORTING = re.compile(
    r"\b(?:said|says|say|texted|told|meme|article|read|saw|heard|joke|joked|movie|film|book|"
    r"sign|manual|try|tries|tried|type|types|typed|wrote|posted)\b",
    re.IGNORECASE,
)
#: Talk *about* attack words, not to the companion: a question or report with no
#: second person ("What is a system prompt?", "I told my friend to forget the rules").
_ABOUT_FRAME = re.compile(
    r"^(?:what is|what's|what are|what does|how do i|how should i|how can i|how to|why do|"
    r"why does|why would|can you explain|explain|i told|i asked|my \w+ (?:said|told|asked|joked))\b"
)
_SECOND_PERSON = re.compile(r"\b(?:you|your|yours|yourself|ur|u)\b")


@dataclass(frozen=True)
class PatternResult:
    """Per-category scores from the patterns and which rules fired, on which view."""

    scores: dict[str, float] = field(default_factory=dict)
    hits: tuple[str, ...] = ()

    @property
    def best(self) -> tuple[str | None, float]:
        """The top category and its score (``(None, 0.0)`` when nothing fired)."""
        if not self.scores:
            return None, 0.0
        top = max(self.scores.values())
        if self.scores.get("injection_attempt", 0.0) >= _STRUCTURAL:
            # Injection structure (fake tags, SQL, templates) names the attack, whatever
            # the payload asks for; the confidence stays the strongest evidence.
            return "injection_attempt", top
        category = min(self.scores, key=lambda c: (-self.scores[c], _TIE_ORDER[c]))
        return category, top


#: One pass over a text finds the literals of every rule (``literals.py``): on a long
#: document most rules are then skipped without running their regular expression.
_SCANNER = LiteralScanner({lit for rule in RULES for lit in rule.literals or ()})


def _score_view(text: str, *, squashed: bool = False) -> tuple[dict[str, float], list[str]]:
    remaining = dict.fromkeys(CATEGORIES, 1.0)
    hits = []
    present = _SCANNER.present(text)
    for rule in RULES:
        if rule.squashed == squashed and rule.search(text, present):
            remaining[rule.category] *= 1.0 - rule.weight
            hits.append(rule.name)
    return {c: 1.0 - r for c, r in remaining.items() if r < 1.0}, hits


def _quoted_only(text: str, scores: dict[str, float]) -> bool:
    """Whether every attack cue sits inside quotes in a reporting sentence.

    ``scores`` are the rule scores of ``text`` itself: without a quotation, or with
    only weak cues, they settle it, so the rules need not run again.
    """
    unquoted = _QUOTED.sub(" ", text)
    if not _REPORTING.search(unquoted):
        return False
    if unquoted == text or max(scores.values(), default=0.0) < 0.5:
        # Removing quotes only removes matches: weak cues stay weak outside them.
        return max(scores.values(), default=0.0) < 0.5
    return max(_score_view(unquoted)[0].values(), default=0.0) < 0.5


#: Asking for a secret is an attack however it is phrased.
_NEVER_DAMPED = re.compile(
    r"\b(?:password|api[ _-]?keys?|jwt|secret (?:key|token)|credentials|access token)s?\b"
)


def _talks_about(text: str) -> bool:
    """A question or report about attack words that does not address the companion."""
    return (
        bool(_ABOUT_FRAME.search(text))
        and not _SECOND_PERSON.search(text)
        and not _NEVER_DAMPED.search(text)
    )


def score_patterns(text_views: list[View]) -> PatternResult:
    """Score every view and keep each category's best.

    Args:
        text_views: the views from ``normalise.views`` (canonical first).

    Returns:
        The per-category scores (quoted, reported speech is damped) and rule hits
        named ``view:rule``.
    """
    scores: dict[str, float] = {}
    hits: list[str] = []
    # Reported speech ("I saw a meme that said 'ignore all previous instructions'")
    # stays visible to later layers but under the incident threshold.
    plain = text_views[0].text if text_views else ""
    matched = [_score_view(v.text, squashed=v.name == "squashed") for v in text_views]
    plain_scores = matched[0][0] if matched else {}
    damp = 0.6 if _quoted_only(plain, plain_scores) or _talks_about(plain) else 1.0
    for view, (view_scores, view_hits) in zip(text_views, matched, strict=True):
        for category, value in view_scores.items():
            scores[category] = max(scores.get(category, 0.0), value * damp)
        hits.extend(f"{view.name}:{name}" for name in view_hits)
    return PatternResult(scores=scores, hits=tuple(hits))
