"""Features on demand: paid software features sold per vehicle after delivery.

``catalogue`` says what can be sold to which car (and why not), ``ledger`` sells and cancels
(entitlements per VIN in the store), ``activation`` turns entitlements at the server clock into
feature changes, RXSWIN renewals and a signed Uptane configuration target, ``revenue`` computes
MRR, attach rates and churn, and ``demo`` seeds ESTIMATE take-up for the simulated fleet.
"""
