# Multi-stage build: the SDK image builds and publishes, the smaller ASP.NET runtime image runs.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props Xeno.sln ./
COPY Xeno.Web/Xeno.Web.csproj Xeno.Web/
COPY Xeno.ShopifyServer/Xeno.ShopifyServer.csproj Xeno.ShopifyServer/
RUN dotnet restore Xeno.Web/Xeno.Web.csproj
COPY Xeno.Web/ Xeno.Web/
COPY Xeno.ShopifyServer/ Xeno.ShopifyServer/
RUN dotnet publish Xeno.Web/Xeno.Web.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# The image's built-in unprivileged user ("app", uid 1654): Xeno never runs as root.
USER $APP_UID
ENV ASPNETCORE_URLS=http://0.0.0.0:8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    DOTNET_gcServer=1
EXPOSE 8080
# fly.toml chooses the role per process group: --role web or --role worker.
ENTRYPOINT ["dotnet", "Xeno.Web.dll"]
CMD ["--role", "all"]
