using System.IO.Pipelines;
using Tus.AspNetCore.Transport;

namespace Tus.Faults.Tests;

/// <summary>The connection input that hides its end until every received byte was examined.</summary>
public sealed class DisconnectDrainingInputTests
{
    [Fact]
    public async Task Read_InputEndedWithBytesLeft_HandsThemOutBeforeTheEnd()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(new byte[100]);
        await pipe.Writer.CompleteAsync();
        var input = new DisconnectDrainingInput(pipe.Reader, TimeSpan.FromSeconds(10), TimeProvider.System);
        input.OnTransportClosed();

        var first = await input.ReadAsync();
        first.IsCompleted.Should().BeFalse("the parser would throw the bytes away with the end");
        first.Buffer.Length.Should().Be(100);
        input.Closed.IsCancellationRequested.Should().BeFalse();
        input.AdvanceTo(first.Buffer.GetPosition(40), first.Buffer.End);

        var second = await input.ReadAsync();
        second.IsCompleted.Should().BeTrue("every byte was examined");
        second.Buffer.Length.Should().Be(60);
        input.AdvanceTo(second.Buffer.End);
        await WaitAsync(input.Closed);
    }

    [Fact]
    public async Task Read_PartlyExamined_KeepsHidingTheEndUntilEverythingWasSeen()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(new byte[100]);
        await pipe.Writer.CompleteAsync();
        var input = new DisconnectDrainingInput(pipe.Reader, TimeSpan.FromSeconds(10), TimeProvider.System);

        var first = await input.ReadAsync();
        input.AdvanceTo(first.Buffer.GetPosition(10), first.Buffer.GetPosition(50));
        var second = await input.ReadAsync();
        second.IsCompleted.Should().BeFalse();
        second.Buffer.Length.Should().Be(90);
        input.AdvanceTo(second.Buffer.Start, second.Buffer.End);
        (await input.ReadAsync()).IsCompleted.Should().BeTrue();
    }

    [Fact]
    public async Task Closed_ReaderStopsReading_FiresAfterTheDrainTimeout()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(new byte[100]);
        await pipe.Writer.CompleteAsync();
        var input = new DisconnectDrainingInput(pipe.Reader, TimeSpan.FromMilliseconds(100), TimeProvider.System);

        input.OnTransportClosed();

        await WaitAsync(input.Closed);
    }

    private static async Task WaitAsync(CancellationToken token)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!token.IsCancellationRequested && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        token.IsCancellationRequested.Should().BeTrue();
    }
}
