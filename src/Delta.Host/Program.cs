// Entry point of the Delta host; the CLI and hosting wiring are built in issue 3.
Console.Error.WriteLine("Delta host: no verbs are wired yet.");
return 1;
