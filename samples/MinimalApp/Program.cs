var builder = WebApplication.CreateBuilder(args);
builder.Services.AddTus(o => o.MaxSize = 10L << 30)
    .AddFileStore(o => o.Directory = "data")
    .AddMemoryLocker();
var app = builder.Build();
app.MapTus("/files");
app.Run();
