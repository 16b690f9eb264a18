-- The portal's sign-in (0014), two gaps closed (issue 12).
--
-- 1. A link is bound to the browser that asked for it. Posting the sign-in form gives that browser
--    a random nonce in a cookie; the link keeps the nonce's SHA-256. Opened in a browser without
--    that cookie (someone forwarded their own link, which would sign the other person in as them:
--    login CSRF), the link asks first, naming the account, instead of signing in at once. Links
--    recorded before this column have none and always ask.
ALTER TABLE sign_in_links
    ADD COLUMN browser_hash bytea CHECK (browser_hash IS NULL OR length(browser_hash) = 32);

-- 2. Aged links and sessions are deleted (app/sign_in.py `sweep`, run by the mail relay's loop):
--    sessions past their absolute lifetime, then links expired a while ago that no remaining
--    session names. The indexes let the sweep find them without reading the tables whole.
CREATE INDEX sign_in_links_by_expiry ON sign_in_links (expires_at);
CREATE INDEX web_sessions_by_expiry ON web_sessions (expires_at);

GRANT DELETE ON sign_in_links, web_sessions TO citycert_runtime;
