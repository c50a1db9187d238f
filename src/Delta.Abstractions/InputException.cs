namespace Delta.Abstractions;

/// <summary>
/// The user's input is wrong — a file (corrupt image, malformed XML), a dataset layout, an option that contradicts
/// another — as opposed to a failure while doing valid work. Hosts show the message as is and report bad input
/// (the CLI's exit code 2), so the message must name the file or option and the problem. Plugins and data readers
/// throw it (or a subclass) for anything the user can fix.
/// </summary>
public class InputException(string message) : Exception(message);
