-- Scenario b: every request is a POST to the URL's path (one object, "/hot").
wrk.method = "POST"
