//! The local Service Catalog: an AWS JSON 1.1 server answering the operations sc-assoc uses as AWS does.
