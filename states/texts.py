"""Every Swedish text the engine shows a person outside templates: one catalogue."""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    # key: (title, detail template)
    "unknown_trigger": (
        "Okänd övergång",
        "Övergången ”{trigger}” finns inte i processdefinitionen {definition}.",
    ),
    "trigger_not_available": (
        "Övergången går inte att göra nu",
        "Övergången ”{trigger}” kan inte göras från fasen ”{state}”.",
    ),
    "trigger_not_offered": (
        "Övergången gäller inte ärendet",
        "Övergången ”{trigger}” gäller bara ärenden där {condition}.",
    ),
    "role_not_allowed": (
        "Rollen saknar behörighet",
        "Rollen ”{role}” får inte {what}. Tillåtna roller: {allowed}.",
    ),
    "transition_refused": (
        "Övergången stoppades av grindar",
        "Ärendet kan inte gå vidare med ”{trigger}”: {unmet}.",
    ),
    "evidence_refused": (
        "Underlaget stoppades av grindar",
        "Underlaget ”{kind}” kan inte registreras: {unmet}.",
    ),
    "outbox_not_found": (
        "Meddelandet finns inte",
        "Det finns inget meddelande med id {outbox_id} i utkorgen.",
    ),
    "outbox_not_dead": (
        "Meddelandet kan inte skickas igen",
        "Meddelande {outbox_id} har läget ”{state}”; bara meddelanden som gett upp kan skickas igen.",
    ),
    "calendar_not_found": (
        "Kalendern finns inte",
        "Det finns ingen kalender på den här adressen. Den kan ha stängts eller ersatts av en ny; "
        "skapa en ny adress med POST /api/calendar.",
    ),
    "comment_required": (
        "Motivering saknas",
        "Övergången ”{trigger}” kräver en motivering (comment).",
    ),
    "unknown_evidence_kind": (
        "Okänt underlag",
        "Underlagstypen ”{kind}” finns inte i processdefinitionen {definition}. "
        "I fasen ”{state}” kan dessa registreras: {kinds}.",
    ),
    "evidence_not_in_phase": (
        "Underlaget kan inte registreras nu",
        "Underlaget ”{kind}” kan inte registreras i fasen ”{state}”.",
    ),
    "evidence_invalid": ("Ogiltigt underlag", "Underlaget ”{kind}” har fel i sina fält."),
    "no_acceptance_test": (
        "Ingen kravlista för acceptanstest",
        "Processdefinitionen {key} version {version} har inget acceptanstest att läsa in krav till.",
    ),
    "case_closed": ("Ärendet är avslutat", "Ärendet är i slutfasen ”{state}” och kan inte ändras."),
    "case_not_found": ("Ärendet finns inte", "Det finns inget ärende med id {case_id}."),
    "log_event_not_found": (
        "Händelsen finns inte",
        "Det finns ingen händelse på plats {index} i granskningsloggen som du får se.",
    ),
    "not_checkpointed": (
        "Händelsen omfattas inte av någon kontrollpunkt än",
        "Ingen signerad kontrollpunkt omfattar plats {index} i loggen; nästa skrivs av det "
        "schemalagda jobbet eller av `upphandla audit verify`.",
    ),
    "log_mismatch": (
        "Loggen stämmer inte med kontrollpunkten",
        "Loggens rot vid storleken {size} är inte den som kontrollpunkten anger; inget bevis "
        "kan ges. Kör `upphandla audit verify` för att se vad som ändrats.",
    ),
    "no_signing_key": (
        "Ingen signeringsnyckel",
        "Granskningsloggens signeringsnyckel finns inte än; den skapas när motorn startar.",
    ),
    "definition_not_found": (
        "Processdefinitionen finns inte",
        "Det finns ingen processdefinition {key} version {version}.",
    ),
    "no_definition": ("Ingen processdefinition", "Det finns ingen inläst processdefinition {key}."),
    "definition_changed": (
        "Processdefinitionen har ändrats",
        "Version {version} av {key} är redan inläst med annat innehåll. "
        "En ändrad definition ska läggas till som en ny version.",
    ),
    "threshold_invalid": ("Ogiltigt tröskelvärde", "Uppgifterna om beloppet är inte giltiga."),
    "threshold_overlaps": (
        "Perioden är redan inlagd",
        "Serien {series} har redan ett belopp för perioden {begins}–{ends}. Ett inlagt belopp "
        "ändras inte; lägg in nästa period med ett senare startdatum.",
    ),
    "concurrent_change": (
        "Ärendet ändrades samtidigt",
        "Ärendet ändrades av någon annan under tiden. Läs det igen och försök på nytt.",
    ),
    "invalid_attributes": ("Ogiltiga uppgifter", "Uppgifterna i begäran är inte giltiga."),
    "unauthenticated": (
        "Inloggning krävs",
        "Begäran saknar en giltig åtkomsttoken (Authorization: Bearer …).",
    ),
    "token_expired": (
        "Åtkomsttoken har gått ut",
        "Åtkomsttoken har gått ut. Be en administratör om en ny (`upphandla token create`).",
    ),
    "token_revoked": (
        "Åtkomsttoken gäller inte längre",
        "Åtkomsttoken har återkallats eller användaren är avstängd.",
    ),
    "too_many_attempts": (
        "För många misslyckade inloggningar",
        "För många försök med ogiltig åtkomsttoken från den här adressen. Försök igen om "
        "{seconds} sekunder.",
    ),
    "oidc_invalid": (
        "Ogiltig inloggning",
        "Inloggningsbeviset (JWT) från identitetsleverantören kunde inte godtas: {reason}.",
    ),
    "oidc_unknown_role": (
        "Okänd roll i inloggningen",
        "Identitetsleverantören anger rollen ”{role}” i anspråket {claim}, men den rollen finns "
        "inte. Kända roller: {known}.",
    ),
    "oidc_unknown_organisation": (
        "Okänd organisation i inloggningen",
        "Identitetsleverantören anger organisationen ”{organisation}” i anspråket {claim}, men "
        "den finns inte i seeds/organisations.yaml.",
    ),
    "user_exists": (
        "Användaren finns redan",
        "Det finns redan en användare med e-postadressen {email}.",
    ),
    "user_not_found": (
        "Användaren finns inte",
        "Det finns ingen användare med e-postadressen {email}.",
    ),
    "user_disabled": (
        "Användaren är avstängd",
        "Användaren {email} är avstängd och kan inte få någon ny åtkomsttoken.",
    ),
    "token_not_found": (
        "Åtkomsttoken finns inte",
        "Det finns ingen åtkomsttoken med id {token_id}.",
    ),
    "forbidden_role": ("Rollen saknar behörighet", "Rollen ”{role}” får inte {what}."),
    "forbidden_relation": (
        "Rollen saknar behörighet i ärendet",
        "Rollen ”{role}” får se ärende {case_id} men inte ändra det: behörigheten gäller inte "
        "ärenden med den relation du har till det (se åtkomstreglerna i processdefinitionen).",
    ),
    "sealed_not_assigned": (
        "Bara ärendets ansvariga upphandlare",
        "”{kind}” omfattas av sekretess till tilldelningsbeslutet (OSL 19 kap. 3 § andra "
        "stycket) och registreras av ärendets ansvariga upphandlare, som kategoriledaren utser.",
    ),
    "forbidden_organisation": (
        "Fel organisation",
        "Rollen ”{role}” får bara starta ärenden för den egna organisationen ”{own}”, inte "
        "för ”{given}”.",
    ),
    "not_found": ("Sidan finns inte", "Det finns ingen resurs på {path}."),
    "method_not_allowed": ("Metoden stöds inte", "Metoden {method} stöds inte för {path}."),
    "malformed_json": ("Felaktig JSON", "Begärans innehåll är inte giltig JSON."),
    "body_too_large": ("Begäran är för stor", "Begärans innehåll får vara högst {limit} byte."),
    "unsupported_media_type": (
        "Fel innehållstyp",
        "Begärans innehåll ska vara application/json (en kravlista får också vara text/csv), "
        "inte {given}.",
    ),
    "internal_error": (
        "Internt fel",
        "Ett oväntat fel inträffade. Felet är loggat med begäran-id {request_id}.",
    ),
    "database_missing": (
        "Databasen finns inte",
        "Det finns ingen databas på {url}. Kontrollera UPPHANDLA_DATABASE_URL och den katalog "
        "kommandot körs i, eller skapa databasen med `upphandla db upgrade`.",
    ),
    "database_not_migrated": (
        "Databasen är inte förberedd",
        "Databasen på {url} saknar upphandlas tabeller. Kör `upphandla db upgrade` först.",
    ),
    "database_outdated": (
        "Databasen har ett äldre schema",
        "Databasen på {url} har schemaversion {current}, men den här versionen av upphandla "
        "behöver {head}. Kör `upphandla db upgrade`.",
    ),
    "database_unreachable": (
        "Databasen kan inte nås",
        "Det gick inte att ansluta till databasen på {url}.",
    ),
    "json_too_deep": (
        "För djupt nästlad JSON",
        "Begärans JSON får ha högst {limit} nivåer av listor och objekt i varandra.",
    ),
    "service_unavailable": (
        "Tjänsten är upptagen",
        "Databasen är upptagen. Försök igen om en stund.",
    ),
    # Conditional and idempotent writes (If-Match, Idempotency-Key)
    "precondition_failed": (
        "Ärendet har ändrats",
        "Ärendet har ändrats sedan du läste det: If-Match stämmer inte med ärendets ETag. "
        "Läs det igen och försök på nytt.",
    ),
    "idempotency_key_reused": (
        "Nyckeln används redan",
        "Idempotency-Key ”{key}” har redan använts för en annan begäran. Använd en ny nyckel "
        "för en ny begäran.",
    ),
    "idempotency_key_in_use": (
        "Begäran pågår redan",
        "En begäran med samma Idempotency-Key utförs just nu. Försök igen om en stund.",
    ),
    "idempotency_response_not_kept": (
        "Svaret visas bara en gång",
        "Begäran med Idempotency-Key ”{key}” är redan utförd, men svaret innehöll en "
        "hemlighet som bara visas en gång och har inte sparats. Gör en ny begäran med en ny "
        "nyckel.",
    ),
}


def text(key: str, /, **values: object) -> tuple[str, str]:
    title, detail = TEXTS[key]
    return title, detail.format(**values)


def unmet(count: int) -> str:
    """ "1 villkor är inte uppfyllt", "3 villkor är inte uppfyllda"."""
    return f"{count} villkor är inte {'uppfyllt' if count == 1 else 'uppfyllda'}"
