// docker-compose.yml: MongoDB's users, created once, on the first start of an empty volume (the
// image runs /docker-entrypoint-initdb.d as root before it enables the replica set).
// Each service gets readWrite on its own database and, on the shared "auth" database, only what
// it needs (fazhiAuth); the operators' user manages API keys; nothing else is granted.
// The same users and roles as deploy/k8s/mongodb/mongodb.yaml.
const admin = db.getSiblingDB("admin");
admin.createRole({
  role: "fazhiAuth",
  privileges: [
    { resource: { db: "auth", collection: "api_keys" }, actions: ["find", "createIndex", "listIndexes"] },
    {
      resource: { db: "auth", collection: "calendar_schedules" },
      actions: ["find", "insert", "update", "remove", "createIndex", "listIndexes"],
    },
  ],
  roles: [],
});
const services = {
  supervision: "SUPERVISION_MONGO_PASSWORD",
  mediation: "PETITION_MEDIATION_MONGO_PASSWORD",
  emergency: "EMERGENCY_MONGO_PASSWORD",
  opengov: "OPEN_GOVERNMENT_MONGO_PASSWORD",
};
for (const [database, variable] of Object.entries(services)) {
  admin.createUser({
    user: database,
    pwd: process.env[variable],
    roles: [{ role: "readWrite", db: database }, { role: "fazhiAuth", db: "admin" }],
  });
}
admin.createUser({
  user: "fazhi-admin",
  pwd: process.env.MONGO_ADMIN_PASSWORD,
  roles: [{ role: "readWrite", db: "auth" }],
});
