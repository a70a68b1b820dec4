from emulator import asl_compat as _asl_compat

# moto's ASL parser must accept every definition AWS accepts before any state machine is created.
_asl_compat.install()
