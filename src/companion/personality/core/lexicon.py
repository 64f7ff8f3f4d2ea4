"""Feeling cues VADER lacks: life events and feelings in en/de/fr/es/it/pt.

Each cue is a regular expression matched on word boundaries in the lower-cased text,
with a valence in [-1, 1] and the kind of feeling a friend would share on hearing it:

- ``loss``: grief, break-ups, loneliness, sadness; calms and saddens (low arousal);
- ``worry``: illness, job loss, accidents, fear, anger; agitates (high arousal);
- ``joy``: good news, excitement, thanks; lifts and energises;
- ``calm``: contentment, rest, quiet; lifts and calms.

VADER scores "my mom passed away" and "I got a new puppy" as neutral and knows no
German, French, Spanish, Italian or Portuguese, hence this list. The cues were
written from the training half of ``bench/data/personality/empathy_labelled.jsonl``'s
categories, never from the held-out half's sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["CUES", "CUE_PATTERN", "Cue", "Kind"]

Kind = Literal["loss", "worry", "joy", "calm"]


@dataclass(frozen=True, slots=True)
class Cue:
    """One phrase pattern, its valence and the kind of feeling."""

    pattern: re.Pattern[str]
    valence: float
    kind: Kind


_RAW: dict[Kind, list[tuple[str, float]]] = {
    "loss": [
        # English
        (r"passed away|passed on", -0.8),
        (r"died|dying|has died", -0.8),
        (r"dead", -0.6),
        (r"death", -0.6),
        (r"funeral|buried|burial", -0.7),
        (r"grief|grieving|mourning|bereaved", -0.7),
        (r"lost (?:her|his|their) battle", -0.8),
        (
            r"lost (?:my|our) (?:mum|mom|mother|dad|father|grand\w+|wife|husband|partner"
            r"|son|daughter|brother|sister|friend|best friend|dog|cat)",
            -0.8,
        ),
        (r"didn'?t make it", -0.6),
        (r"miscarriage|lost the baby|stillborn", -0.8),
        (r"suicide|killed (?:him|her)self", -0.8),
        (r"put (?:\w+ ){1,2}to sleep|put (?:\w+ ){1,2}down", -0.7),
        (r"broke up|break up|breakup|broken up|split up|dumped", -0.6),
        (r"left me|walked out on me", -0.6),
        (r"divorce|divorced|divorcing", -0.6),
        (r"lonely|loneliness|so alone|all alone|feel alone|felt (?:so )?alone", -0.6),
        (r"miss (?:her|him|them|you|my|mum|mom|dad)", -0.5),
        (r"heartbroken|heart ?break|breaks my heart|broken heart", -0.7),
        (r"devastated|crushed|gutted", -0.7),
        (r"empty|numb|hopeless|worthless|depressed|depression|miserable", -0.6),
        (r"feel(?:ing)? (?:really |so |very )?down", -0.5),
        (r"cry|crying|cried|tears|sobbing|weep(?:ing)?", -0.5),
        (r"sad|sadness|unhappy|sorrow", -0.5),
        (r"nobody (?:calls|came|cares|loves|likes)|no one (?:calls|came|cares)", -0.6),
        (r"without (?:my|her|him)", -0.3),
        (r"stopped talking to me|ignor(?:e|es|ing) me", -0.6),
        (r"not (?:happy|good|okay|ok|fine|well)|don'?t feel (?:good|well|ok|okay|happy)", -0.5),
        (r"exhausted|worn out|tired of", -0.4),
        (r"disappear", -0.4),
        (r"dementia|alzheimer'?s", -0.5),
        # German
        (r"gestorben|verstorben|tot|beerdigung|trauer|trauere", -0.8),
        (r"getrennt|schluss gemacht|verlassen", -0.6),
        (r"einsam|allein", -0.5),
        (r"traurig|weine|weinen|vermisse", -0.5),
        # French
        (r"décédée?s?|morte?s?|enterrement|deuil|obsèques", -0.8),
        (r"rupture|m'a quitté(?:e)?|on s'est séparés", -0.6),
        (r"seule?|solitude", -0.5),
        (r"triste|tristesse|pleure|pleurer|me manque", -0.5),
        # Spanish
        (r"murió|falleció|fallecido|fallecida|muerto|muerta|entierro", -0.8),
        (r"me dejó|terminamos|divorciamos|divorcio", -0.6),
        (r"me siento (?:muy |tan )?sol[ao]", -0.6),
        (r"triste|tristeza|llorar|llorando|lloro|extraño", -0.5),
        # Italian
        (r"è morto|è morta|morto|morta|funerale|lutto", -0.8),
        (r"mi ha lasciat[oa]|ci siamo lasciati", -0.6),
        (r"mi sento (?:così |molto )?sol[oa]", -0.6),
        (r"triste|tristezza|piango|piangere|mi manca", -0.5),
        # Portuguese
        (r"morreu|faleceu|falecido|falecida|velório", -0.8),
        (r"me deixou|terminou comigo|nos separamos", -0.6),
        (r"sozinh[oa]|solidão", -0.5),
        (r"triste|tristeza|chorar|chorando|choro|saudade", -0.5),
    ],
    "worry": [
        # English
        (r"diagnosed|diagnosis", -0.6),
        (r"cancer|tumou?r|chemo(?:therapy)?|biopsy|lump", -0.6),
        (r"stroke|heart attack|icu|intensive care|emergency room", -0.6),
        (r"hospital|surgery|operation|pneumonia|diabetes", -0.4),
        (r"sick|ill|fever|flu|infection|in (?:so much )?pain|hurts", -0.3),
        (r"accident|crash(?:ed)?|broke (?:her|his|my) (?:\w+)", -0.5),
        (r"fired|laid off|lost my job|made redundant|redundan(?:t|cy)|unemployed", -0.6),
        (r"evict(?:ed|ing|ion)?|bankrupt(?:cy)?|debt|can'?t pay|bills", -0.5),
        (r"stole|stolen|robbed|broke into|burglar", -0.5),
        (r"flood(?:ed)?|fire|disaster", -0.4),
        (r"scared|afraid|terrified|frightened|fear", -0.5),
        (r"anxious|anxiety|panic(?:king)?|panic attack", -0.5),
        (r"worried|worrying|worry|nervous|stressed|stress", -0.4),
        (r"angry|furious|mad|pissed|livid|rage", -0.5),
        (r"hate|frustrat(?:ed|ing)|annoyed|upset", -0.4),
        (r"came back positive|tested positive", -0.5),
        (r"yell(?:ed|ing)|scream(?:ed|ing)|shout(?:ed|ing)|bullied", -0.5),
        (r"cancell?ed|delayed|broke down|broken|cracked|flat tire|locked (?:my ?self )?out", -0.3),
        # German
        (r"gekündigt|entlassen|job verloren|arbeit verloren|arbeitslos", -0.6),
        (r"krebs|krankenhaus|operation|unfall|krank|fieber", -0.5),
        (r"angst|sorgen|wütend|sauer|miete", -0.4),
        # French
        (r"licencié(?:e)?|perdu mon (?:travail|emploi|boulot)|chômage", -0.6),
        (r"cancer|hôpital|malade|opération|accident", -0.5),
        (r"peur|inquiète?|inquiet|furieux|furieuse|en colère|angoiss(?:e|ée?)", -0.4),
        # Spanish
        (r"despidieron|despedid[oa]|perdí (?:mi|el) (?:trabajo|empleo)", -0.6),
        (r"cáncer|hospital|enferm[oa]|operación|accidente", -0.5),
        (r"miedo|preocupad[oa]|furios[oa]|enfadad[oa]", -0.4),
        # Italian
        (r"licenziat[oa]|perso il lavoro", -0.6),
        (r"cancro|tumore|ospedale|malat[oa]|operazione|incidente", -0.5),
        (r"paura|preoccupat[oa]|arrabbiat[oa]", -0.4),
        # Portuguese
        (r"demitid[oa]|perdi o (?:meu )?emprego|desempregad[oa]", -0.6),
        (r"câncer|cancro|hospital|doente|cirurgia|acidente", -0.5),
        (r"medo|preocupad[oa]|raiva|furios[oa]", -0.4),
    ],
    "joy": [
        # English
        (r"puppy|kitten|adopted", 0.6),
        (r"new job|got the job|job offer|got hired", 0.7),
        (r"promoted|promotion|raise", 0.5),
        (r"engaged|got married|wedding|getting married", 0.5),
        (r"baby|born|pregnant", 0.4),
        (r"passed my|passed the|graduated|accepted|scholarship", 0.6),
        (r"won(?!')|champions?hip|victory", 0.5),
        (r"vacation|holiday|trip", 0.3),
        (r"new house|new apartment|first house|bought (?:a|our) house", 0.5),
        (r"recovered|came back (?:clear|fine|negative)|cancer.free|all clear|healthy", 0.7),
        (r"selected|nailed it|made it|fixed it|finally (?:fixed|finished|did)", 0.4),
        (r"approved", 0.4),
        (r"excited|thrilled|can'?t wait", 0.6),
        # German
        (r"bestanden|befördert|job bekommen|stelle bekommen", 0.6),
        (r"freue mich|glücklich|heiraten|verlobt|danke", 0.5),
        # French
        (r"réussi|eu le poste|embauchée?|fiancée?s?|bébé|mariage", 0.6),
        (r"heureux|heureuse|contente?|joie|merci", 0.5),
        # Spanish
        (r"conseguí|aprobé|ascendieron|bebé|nos casamos", 0.6),
        (r"feliz|content[oa]|alegría|gracias", 0.5),
        # Italian
        (r"superato|trovato lavoro|ci sposiamo|aspettiamo un bambino", 0.6),
        (r"felice|felicissim[oa]|content[oa]|grazie", 0.5),
        # Portuguese
        (r"passei|consegui|bebê|nos casamos|vamos casar", 0.6),
        (r"feliz|content[ea]|alegria|obrigad[oa]", 0.5),
    ],
    "calm": [
        (r"relax(?:ing|ed)?|peaceful|calm|cozy|cosy|rested|refreshed|serene", 0.4),
        (r"quiet|content|comfortable|lazy|nap|gentle", 0.3),
        (r"ruhige?[rnsm]?|gemütliche?[rnsm]?|entspannte?[rnsm]?", 0.4),
        (r"tranquille|détendue?|reposée?", 0.4),
        (r"tranquil[ao]|relajad[ao]", 0.4),
        (r"tranquill[ao]|rilassante|rilassat[oa]", 0.4),
        (r"tranquil[ao]|relaxad[ao]|calm[ao]", 0.4),
    ],
}

_ALL = [
    (kind, (pattern, valence)) for kind, entries in _RAW.items() for pattern, valence in entries
]
CUES: tuple[Cue, ...] = tuple(
    Cue(re.compile(rf"(?<!\w)(?:{pattern})(?!\w)"), valence, kind)
    for kind, (pattern, valence) in _ALL
)

#: All cues in one alternation: group ``c<i>`` is ``CUES[i]``. One scan per message,
#: and overlapping cues (the same word in two languages) count once, leftmost first.
CUE_PATTERN = re.compile(
    r"(?<!\w)(?:"
    + "|".join(f"(?P<c{i}>{pattern})" for i, (_, (pattern, _v)) in enumerate(_ALL))
    + r")(?!\w)"
)
