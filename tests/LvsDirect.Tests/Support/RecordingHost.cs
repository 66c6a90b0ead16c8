using System.Collections.Concurrent;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;

namespace LvsDirect.Tests.Support;

/// <summary>
/// A minimal PSHost that records progress. A runspace without a host UI drops progress records
/// (PowerShell.Streams.Progress stays empty), so progress can only be observed through a host.
/// </summary>
public sealed class RecordingHost : PSHost
{
    private readonly RecordingUserInterface _ui = new();

    public IReadOnlyList<ProgressRecord> Progress => _ui.Progress.ToList();

    /// <summary>Lines written to the host, such as -WhatIf's "What if: …".</summary>
    public IReadOnlyList<string> Lines => _ui.Lines.ToList();

    public override string Name => "LvsDirect.Tests";

    public override Version Version => new(1, 0);

    public override Guid InstanceId { get; } = Guid.NewGuid();

    public override PSHostUserInterface UI => _ui;

    public override CultureInfo CurrentCulture => CultureInfo.InvariantCulture;

    public override CultureInfo CurrentUICulture => CultureInfo.InvariantCulture;

    public override void SetShouldExit(int exitCode)
    {
    }

    public override void EnterNestedPrompt() => throw new NotSupportedException();

    public override void ExitNestedPrompt() => throw new NotSupportedException();

    public override void NotifyBeginApplication()
    {
    }

    public override void NotifyEndApplication()
    {
    }

    private sealed class RecordingUserInterface : PSHostUserInterface
    {
        public ConcurrentQueue<ProgressRecord> Progress { get; } = new();

        public ConcurrentQueue<string> Lines { get; } = new();

        public override PSHostRawUserInterface? RawUI => null;

        public override void WriteProgress(long sourceId, ProgressRecord record) => Progress.Enqueue(record);

        public override string ReadLine() => throw new NotSupportedException();

        public override SecureString ReadLineAsSecureString() => throw new NotSupportedException();

        public override void Write(string value)
        {
        }

        public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value)
        {
        }

        public override void WriteLine(string value) => Lines.Enqueue(value);

        public override void WriteErrorLine(string value)
        {
        }

        public override void WriteDebugLine(string message)
        {
        }

        public override void WriteVerboseLine(string message)
        {
        }

        public override void WriteWarningLine(string message)
        {
        }

        public override Dictionary<string, PSObject> Prompt(string caption, string message, System.Collections.ObjectModel.Collection<FieldDescription> descriptions) =>
            throw new NotSupportedException();

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) =>
            throw new NotSupportedException();

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) =>
            throw new NotSupportedException();

        public override int PromptForChoice(string caption, string message, System.Collections.ObjectModel.Collection<ChoiceDescription> choices, int defaultChoice) =>
            throw new NotSupportedException();
    }
}
